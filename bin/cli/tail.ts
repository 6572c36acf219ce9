/**
 * `lava-aurora tail [--job J] [--for DURATION] [--poll-interval S] [--json]`
 * (docs/operations.md §4): follow the deployed state machine's executions — those
 * running when it starts, new ones, redriven ones — and print each one's outcome
 * when it ends. Runs until interrupted, or for `--for`. `--json`: one JSON object
 * per line (`event`: running, started, finished).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { deployedStateMachineArn } from "./deployed";
import { EXIT, reportError } from "./errors";
import {
  awsError,
  describeExecution,
  durationFlag,
  type ExecutionSummary,
  formatDuration,
  formatTime,
  outcomeText,
  positiveFlag,
  sfnClient,
} from "./executions";
import { loadRealm, type RealmFlags } from "./realm";

export interface TailFlags extends RealmFlags {
  readonly job?: string;
  readonly for?: string;
  readonly pollInterval?: string;
  readonly json?: boolean;
}

/** What tail prints about an execution: found running, started since, or ended. */
export type TailEvent = "running" | "started" | "finished";

/**
 * Newest executions first, until one already known (an execution never moves up
 * the list); with nothing known yet, the first page (what there is now).
 */
async function newSince(
  sfn: SFNClient,
  stateMachineArn: string,
  known: ReadonlySet<string>,
): Promise<string[]> {
  const { ListExecutionsCommand } = await import("@aws-sdk/client-sfn");
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn
      .send(
        new ListExecutionsCommand({
          stateMachineArn,
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      )
      .catch((err: unknown) => {
        throw awsError(`cannot list the executions of ${stateMachineArn}`, err);
      });
    for (const e of page.executions ?? []) {
      if (known.has(e.executionArn ?? "")) return out;
      out.push(e.executionArn ?? "");
    }
    nextToken = known.size === 0 ? undefined : page.nextToken;
  } while (nextToken);
  return out;
}

/** The ARNs of the executions running now (a redriven one is among them again). */
async function running(sfn: SFNClient, stateMachineArn: string): Promise<string[]> {
  const { ListExecutionsCommand } = await import("@aws-sdk/client-sfn");
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn
      .send(
        new ListExecutionsCommand({
          stateMachineArn,
          statusFilter: "RUNNING",
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        }),
      )
      .catch((err: unknown) => {
        throw awsError(`cannot list the running executions of ${stateMachineArn}`, err);
      });
    out.push(...(page.executions ?? []).map((e) => e.executionArn ?? ""));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

export async function tailCommand(
  flags: TailFlags,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  try {
    const forMs = durationFlag(flags.for, "--for");
    const pollMs = positiveFlag(flags.pollInterval, "--poll-interval", 2) * 1000;
    const realm = await loadRealm(flags);
    const stateMachineArn = await deployedStateMachineArn(realm);
    const sfn = await sfnClient();
    const until = forMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + forMs;
    const print = (event: TailEvent, s: ExecutionSummary) => {
      if (flags.job !== undefined && s.job_id !== flags.job) return;
      out.write(flags.json ? `${JSON.stringify({ event, ...s })}\n` : `${tailLine(event, s)}\n`);
    };
    // Everything listed now is known: only its running part is followed.
    const known = new Set<string>();
    const following = new Set<string>();
    const first = await running(sfn, stateMachineArn);
    for (const arn of await newSince(sfn, stateMachineArn, known)) known.add(arn);
    for (const arn of first) {
      known.add(arn);
      following.add(arn);
      print("running", await describeExecution(sfn, arn));
    }
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(pollMs, left));
      const fresh = await newSince(sfn, stateMachineArn, known);
      const now = new Set(await running(sfn, stateMachineArn));
      // Oldest first, as they happened.
      for (const arn of fresh.reverse()) {
        known.add(arn);
        const s = await describeExecution(sfn, arn);
        print("started", s);
        if (s.status === "RUNNING") following.add(arn);
        else print("finished", s);
      }
      for (const arn of now) {
        if (following.has(arn) || !known.has(arn)) continue;
        // Redriven: running again.
        following.add(arn);
        print("started", await describeExecution(sfn, arn));
      }
      for (const arn of [...following]) {
        if (now.has(arn)) continue;
        const s = await describeExecution(sfn, arn);
        if (s.status === "RUNNING") continue;
        following.delete(arn);
        print("finished", s);
      }
    }
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

/** One tail event on one line. */
export function tailLine(event: TailEvent, s: ExecutionSummary): string {
  const at = event === "finished" ? (s.stopped_at ?? s.started_at) : s.started_at;
  const what =
    event === "finished"
      ? `${s.status.padEnd(9)}  ${formatDuration(s.duration_ms).padStart(7)}  ${outcomeText(s)}`
      : `${(event === "running" ? "RUNNING" : s.redrive_count > 0 ? "REDRIVEN" : "STARTED").padEnd(9)}  ${"".padStart(7)}  ${event === "running" ? "running when tail began" : "started"}`;
  return `${formatTime(at)}  ${(s.job_id ?? "?").padEnd(24)}  ${what}  ${s.name}`;
}
