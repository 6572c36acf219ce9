/**
 * Lambda function `lava-<realm>-s3trigger` (docs/triggers.md): S3 events — EventBridge
 * "Object Created" (the stack's rule), or S3 notifications direct, via SNS or
 * via SQS — to executions of `lava-<realm>-jobs`, at most once per object
 * version and job.
 *
 * Whatever was not dispatched (a record that cannot be decoded, a trigger
 * whose templates fail, a job that cannot be started) is logged and fails its
 * event, after everything else of the event was dispatched: SQS batches get a
 * partial-failure response naming those messages, other invocations throw.
 * Either way the event is delivered again a bounded number of times (Lambda's
 * asynchronous retries, the queue's maxReceiveCount) and then waits in a
 * dead-letter queue — also when the failure is permanent (a template error),
 * since only there can it be redriven once the realm is fixed. A redelivery
 * starts nothing twice: the executions already started have the same names.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { LavaError } from "../shared/errors";
import { logKeys } from "../shared/log-keys";
import type { Realm } from "../spec/realm";
import { type ExecutionStarter, sfnStarter } from "../triggers/dispatch";
import { type ProcessOutcome, processEvent } from "../triggers/process";
import { bundledRealm } from "./bundled-realm";

/** What the handler answers: SQS's partial batch response, or the dispatches. */
export type S3TriggerResponse =
  | { batchItemFailures: { itemIdentifier: string }[] }
  | { dispatched: ProcessOutcome["dispatched"] };

function isSqsBatch(event: unknown): boolean {
  const records = (event as { Records?: { eventSource?: string }[] })?.Records;
  return Array.isArray(records) && records.some((r) => r?.eventSource === "aws:sqs");
}

/** A handler for a realm and an execution starter. */
export function makeS3TriggerHandler(
  realm: Realm,
  start: ExecutionStarter,
  logger: Pick<Logger, "info" | "error">,
) {
  return async (event: unknown): Promise<S3TriggerResponse> => {
    const outcome = await processEvent(realm, event, start);
    // Every line has the run's keys (docs/operations.md §5); the run id is made later, at Resolve.
    for (const d of outcome.dispatched) {
      const keys = logKeys(realm.name, { ...d, execution: d.execution_arn });
      logger.info(d.duplicate ? "already dispatched" : "dispatched", { ...keys, ...d });
    }
    for (const f of outcome.failures) {
      const message = f.trigger_id ? "trigger not dispatched" : "record not dispatched";
      logger.error(message, { ...logKeys(realm.name, f), ...f });
    }
    if (isSqsBatch(event)) {
      // Only the failed messages go back to the queue.
      return {
        batchItemFailures: outcome.failures.flatMap((f) =>
          f.id ? [{ itemIdentifier: f.id }] : [],
        ),
      };
    }
    if (outcome.failures.length > 0) {
      // Lambda retries the event, then sends it to the dead-letter queue: nothing is lost silently.
      throw new LavaError(outcome.failures.map((f) => f.error).join("; "), {
        retryable: outcome.failures.some((f) => f.retryable),
      });
    }
    return { dispatched: outcome.dispatched };
  };
}

let handle: ReturnType<typeof makeS3TriggerHandler> | undefined;

/** The Lambda entry point; the state machine's ARN comes from the stack. */
export async function handler(event: unknown): Promise<S3TriggerResponse> {
  if (!handle) {
    const arn = process.env.STATE_MACHINE_ARN;
    if (!arn)
      throw new LavaError(
        "STATE_MACHINE_ARN is not set: deploy this function with the realm stack",
      );
    handle = makeS3TriggerHandler(bundledRealm(), sfnStarter(arn), new Logger());
  }
  return handle(event);
}
