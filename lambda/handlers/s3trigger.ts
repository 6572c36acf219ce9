/**
 * Lambda function `lava-<realm>-s3trigger`, wired by the realm stack to the
 * EventBridge rule `lava.<realm>.s3`. This release receives and logs the
 * objects; matching them against the realm's s3triggers and dispatching jobs
 * is the s3trigger issue's work (SPEC §6).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Realm } from "../spec/validate";
import { bundledRealm } from "./bundled-realm";

/** The fields of an EventBridge "Object Created" event this function reads. */
export interface ObjectCreatedEvent {
  readonly "detail-type"?: string;
  readonly detail?: { bucket?: { name?: string }; object?: { key?: string; size?: number } };
}

/** What the function did with an event. */
export interface S3TriggerOutcome {
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly dispatched: number;
}

/** A handler for a realm; logs each object it is told about. */
export function makeS3TriggerHandler(realm: Realm, logger: Pick<Logger, "info">) {
  return async (event: ObjectCreatedEvent): Promise<S3TriggerOutcome> => {
    const bucket = event.detail?.bucket?.name;
    const key = event.detail?.object?.key;
    logger.info("object event received", {
      realm: realm.name,
      detailType: event["detail-type"],
      bucket,
      key,
    });
    return { bucket, key, dispatched: 0 };
  };
}

let handle: ReturnType<typeof makeS3TriggerHandler> | undefined;

/** The Lambda entry point. */
export async function handler(event: ObjectCreatedEvent): Promise<S3TriggerOutcome> {
  handle ??= makeS3TriggerHandler(bundledRealm(), new Logger());
  return handle(event);
}
