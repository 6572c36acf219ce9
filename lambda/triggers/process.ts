/**
 * From a Lambda event to dispatches: decode every record, match the realm's
 * triggers, start one execution per (record, job). Nothing that fails stops
 * the rest: a record that cannot be decoded, a trigger whose templates fail,
 * an execution that cannot be started are each reported (with the record's
 * SQS message id) while the other records, triggers and jobs go ahead.
 */
import { isTransient, LavaError } from "../shared/errors";
import type { Realm } from "../spec/realm";
import { decodeEvent, type ObjectEvent } from "./decode-event";
import { type ExecutionStarter, executionNameFor } from "./dispatch";
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

/** Something of a record that was not dispatched. */
export interface ProcessFailure {
  /** The SQS message id of the record, when it came in one. */
  readonly id: string | undefined;
  readonly error: string;
  /** The trigger that failed (its templates, or starting one of its jobs), when it was one. */
  readonly trigger_id?: string;
  /** The job that could not be started, when it was one. */
  readonly job_id?: string;
  /** The object of the record, when it could be decoded. */
  readonly bucket?: string;
  readonly key?: string;
  /**
   * Whether the same event may succeed later (throttling, network). False for
   * an event that cannot be decoded and for a template error: those wait in
   * a dead-letter queue until the realm (or the sender) is fixed.
   */
  readonly retryable: boolean;
}

export interface ProcessOutcome {
  readonly dispatched: Dispatched[];
  readonly failures: ProcessFailure[];
}

const describe = (err: unknown) =>
  err instanceof Error ? `${err.name}: ${err.message}` : String(err);

const retryable = (err: unknown) => (err instanceof LavaError ? err.retryable : isTransient(err));

/** Handle every record of an event. */
export async function processEvent(
  realm: Realm,
  event: unknown,
  start: ExecutionStarter,
): Promise<ProcessOutcome> {
  const batch = decodeEvent(event);
  const dispatched: Dispatched[] = [];
  const failures: ProcessFailure[] = batch.failures.map((f) => ({ ...f, retryable: false }));
  const where = (object: ObjectEvent) => `s3://${object.bucket}/${object.key}`;
  const about = (object: ObjectEvent) => ({ bucket: object.bucket, key: object.key });
  await Promise.all(
    batch.records.map(async ({ id, event: object }) => {
      let match: ReturnType<typeof matchTriggers>;
      try {
        match = matchTriggers(realm, object);
      } catch (err) {
        failures.push({
          id,
          ...about(object),
          error: `${where(object)}: ${describe(err)}`,
          retryable: false,
        });
        return;
      }
      for (const { trigger_id, error } of match.failures) {
        failures.push({
          id,
          trigger_id,
          ...about(object),
          error: `${where(object)}: ${describe(error)}`,
          retryable: retryable(error),
        });
      }
      for (const d of match.dispatches) {
        try {
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
              // When the run was wanted: its RunDelay and Lag start here (docs/operations.md §1).
              event_time: object.event_time,
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
        } catch (err) {
          failures.push({
            id,
            trigger_id: d.trigger_id,
            job_id: d.job_id,
            ...about(object),
            error: `${where(object)}: ${describe(err)}`,
            retryable: retryable(err),
          });
        }
      }
    }),
  );
  return { dispatched, failures };
}
