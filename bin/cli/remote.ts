/**
 * `lava-aurora run JOB_ID --remote [--wait]`: start an execution of the
 * deployed realm's state machine (its ARN from SSM
 * `/lava/<realm>/state-machine-arn`) and, with --wait, print its result.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { isTransient, LavaError } from "../../lambda/shared/errors";
import type { Realm } from "../../lambda/spec/realm";
import { deployedStateMachineArn } from "./deployed";
import { EXIT } from "./errors";

export interface RemoteOptions {
  readonly wait: boolean;
  /** Seconds between DescribeExecution calls while waiting. */
  readonly pollSeconds: number;
}

/** A unique execution name within AWS's rules (≤ 80 characters of `[A-Za-z0-9_-]`). */
export function executionName(jobId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const slug = jobId
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
  return `cli-${slug}-${stamp}-${randomBytes(4).toString("hex")}`;
}

function awsError(what: string, err: unknown): LavaError {
  const name = err instanceof Error ? err.name : "Error";
  return new LavaError(`${what}: ${name}: ${(err as Error).message}`, {
    cause: err,
    retryable: isTransient(err),
  });
}

/** Start (and maybe wait for) an execution; prints JSON on stdout; returns the exit code. */
export async function runRemote(
  realm: Realm,
  dispatch: {
    job_id: string;
    parameters: Record<string, unknown>;
    globals: Record<string, unknown>;
    run_id?: string;
  },
  options: RemoteOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { SFNClient, StartExecutionCommand, DescribeExecutionCommand } = await import(
    "@aws-sdk/client-sfn"
  );
  const stateMachineArn = await deployedStateMachineArn(realm);
  const sfn = new SFNClient({});
  const name = executionName(dispatch.job_id);
  let executionArn: string | undefined;
  try {
    executionArn = (
      await sfn.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(dispatch) }),
      )
    ).executionArn;
  } catch (err) {
    throw awsError(`cannot start ${dispatch.job_id} in realm ${realm.name}`, err);
  }
  if (!options.wait) {
    out.write(`${JSON.stringify({ execution_arn: executionArn, name }, null, 2)}\n`);
    return EXIT.ok;
  }
  for (;;) {
    const e = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (e.status === "RUNNING" || e.status === "PENDING_REDRIVE") {
      await sleep(options.pollSeconds * 1000);
      continue;
    }
    if (e.status === "SUCCEEDED") {
      out.write(`${JSON.stringify(JSON.parse(e.output ?? "null"), null, 2)}\n`);
      return EXIT.ok;
    }
    out.write(
      `${JSON.stringify({ status: e.status, execution_arn: executionArn, error: e.error, cause: e.cause }, null, 2)}\n`,
    );
    return EXIT.failed;
  }
}
