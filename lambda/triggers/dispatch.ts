/**
 * Dispatch (docs/triggers.md §7): one execution of `lava-<realm>-jobs` per (object event,
 * job), named deterministically from realm, job, bucket, key and the
 * object's identity, so a duplicate S3 event starts nothing new: AWS refuses
 * a second execution of one name (for 90 days). The ledger is the final guarantee.
 */
import { createHash } from "node:crypto";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { isTransient, LavaError } from "../shared/errors";
import type { ObjectEvent } from "./decode-event";
import { isRemovalEventType } from "./event-types";

/** The identity of the object version an event is about: version id, else sequencer, else ETag. */
export function objectIdentity(event: ObjectEvent): string {
  return event.version_id ?? event.sequencer ?? event.etag ?? event.event_time;
}

/**
 * Execution name: `<job slug>-<hash>`, at most 80 characters of `[A-Za-z0-9_-]`.
 * A removal's event type is part of it: the permanent deletion of a version
 * carries the id of the version it deletes, the creation's own identity.
 */
export function executionNameFor(realm: string, jobId: string, event: ObjectEvent): string {
  const identity = isRemovalEventType(event.event_type)
    ? [event.event_type, objectIdentity(event)]
    : [objectIdentity(event)];
  const hash = createHash("sha256")
    .update([realm, jobId, event.bucket, event.key, ...identity].join("\n"))
    .digest("hex")
    .slice(0, 40);
  const slug = jobId
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 39);
  return slug ? `${slug}-${hash}` : hash;
}

/** Starts executions; `duplicate` when one of that name already exists. */
export type ExecutionStarter = (request: { name: string; input: unknown }) => Promise<{
  executionArn: string | undefined;
  duplicate: boolean;
}>;

/** The real starter: Step Functions through the SDK (AWS_ENDPOINT_URL_SFN honoured), retrying throttling. */
export function sfnStarter(stateMachineArn: string): ExecutionStarter {
  let client: SFNClient | undefined;
  return async ({ name, input }) => {
    const sdk = await import("@aws-sdk/client-sfn");
    // Adaptive retries absorb StartExecution throttling during a burst of events.
    client ??= new sdk.SFNClient({ maxAttempts: 8, retryMode: "adaptive" });
    try {
      const out = await client.send(
        new sdk.StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return { executionArn: out.executionArn, duplicate: false };
    } catch (err) {
      if ((err as Error).name === "ExecutionAlreadyExists") {
        return {
          executionArn: `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`,
          duplicate: true,
        };
      }
      throw new LavaError(
        `cannot start execution ${name}: ${(err as Error).name}: ${(err as Error).message}`,
        {
          cause: err,
          retryable: isTransient(err),
        },
      );
    }
  };
}
