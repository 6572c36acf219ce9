/**
 * `lava-aurora redrive EXECUTION`: Step Functions' redrive of a failed, timed-out
 * or aborted execution of the deployed realm's state machine (docs/pipelines.md §3):
 * it continues from the unsuccessful step; the steps that succeeded (an
 * interrupted pipeline's finished children) are not run again.
 */
import { isTransient, LavaError } from "../../lambda/shared/errors";
import { deployedStateMachineArn } from "./deployed";
import { EXIT, reportError, UsageError } from "./errors";
import { loadRealm, type RealmFlags } from "./realm";

/** An execution ARN, or an execution name of the realm's state machine. */
export function executionArnOf(execution: string, stateMachineArn: string): string {
  if (execution.startsWith("arn:")) {
    if (!execution.includes(":execution:"))
      throw new UsageError(`expected an execution ARN or name, got ${execution}`);
    return execution;
  }
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(execution))
    throw new UsageError(`expected an execution ARN or name, got ${JSON.stringify(execution)}`);
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${execution}`;
}

export async function redriveCommand(
  execution: string,
  flags: RealmFlags & { readonly json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  try {
    const realm = await loadRealm(flags);
    const { SFNClient, RedriveExecutionCommand } = await import("@aws-sdk/client-sfn");
    const executionArn = executionArnOf(execution, await deployedStateMachineArn(realm));
    try {
      const r = await new SFNClient({}).send(new RedriveExecutionCommand({ executionArn }));
      const when = r.redriveDate?.toISOString() ?? null;
      out.write(
        flags.json
          ? `${JSON.stringify({ execution_arn: executionArn, redrive_date: when }, null, 2)}\n`
          : `redriven ${executionArn} at ${when ?? "?"}: it continues from its unsuccessful step; "lava-aurora show ${executionArn.split(":").at(-1)}" shows how far it got\n`,
      );
      return EXIT.ok;
    } catch (err) {
      const e = err as Error;
      throw new LavaError(`cannot redrive ${executionArn}: ${e.name}: ${e.message}`, {
        cause: err,
        retryable: isTransient(err),
      });
    }
  } catch (err) {
    return reportError(err);
  }
}
