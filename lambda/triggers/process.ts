/**
 * From a Lambda event to dispatches: decode every record, match the realm's
 * triggers, start one execution per (record, job). A record that fails does
 * not stop the others; failures are reported per record (SQS message id).
 */
import type { Realm } from "../spec/validate";
import { type ExecutionStarter, executionNameFor } from "./dispatch";
import { decodeEvent } from "./events";
import { matchTriggers } from "./match";

/** One dispatch made (or found already made) for a record. */
export interface Dispatched {
  readonly trigger_id: string;
  readonly job_id: string;
  readonly bucket: string;
  readonly key: string;
  readonly execution_arn: string | undefined;
  readonly duplicate: boolean;
}

export interface ProcessOutcome {
  readonly dispatched: Dispatched[];
  /** Records that could not be decoded or dispatched; `id` is the SQS message id when there is one. */
  readonly failures: { id: string | undefined; error: string }[];
}

/** Handle every record of an event. */
export async function processEvent(
  realm: Realm,
  event: unknown,
  start: ExecutionStarter,
): Promise<ProcessOutcome> {
  const batch = decodeEvent(event);
  const dispatched: Dispatched[] = [];
  const failures = [...batch.failures];
  await Promise.all(
    batch.records.map(async ({ id, event: object }) => {
      try {
        for (const d of matchTriggers(realm, object)) {
          const { executionArn, duplicate } = await start({
            name: executionNameFor(realm.name, d.job_id, object),
            input: {
              job_id: d.job_id,
              parameters: d.parameters,
              globals: d.globals,
              ...(d.literal_parameters.length > 0
                ? { literal_parameters: d.literal_parameters }
                : {}),
              delay: d.delay,
            },
          });
          dispatched.push({
            trigger_id: d.trigger_id,
            job_id: d.job_id,
            bucket: object.bucket,
            key: object.key,
            execution_arn: executionArn,
            duplicate,
          });
        }
      } catch (err) {
        failures.push({
          id,
          error: `s3://${object.bucket}/${object.key}: ${(err as Error).name}: ${(err as Error).message}`,
        });
      }
    }),
  );
  return { dispatched, failures };
}
