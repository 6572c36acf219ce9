/** Finding a deployed realm's state machine: its ARN is in SSM `/lava/<realm>/state-machine-arn`. */
import { isTransient, LavaError } from "../../lambda/shared/errors";
import type { Realm } from "../../lambda/spec/realm";

/** The ARN of `lava-<realm>-jobs`; a clear runtime error when the realm is not deployed. */
export async function deployedStateMachineArn(realm: Realm): Promise<string> {
  const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
  const parameter = `/lava/${realm.name}/state-machine-arn`;
  let arn: string | undefined;
  try {
    arn = (await new SSMClient({}).send(new GetParameterCommand({ Name: parameter }))).Parameter
      ?.Value;
  } catch (err) {
    const name = err instanceof Error ? err.name : "Error";
    throw new LavaError(
      `cannot find realm ${realm.name}'s state machine (SSM ${parameter}); is the realm deployed? (${name})`,
      { cause: err, retryable: isTransient(err) },
    );
  }
  if (!arn) throw new LavaError(`SSM ${parameter} is empty`);
  return arn;
}
