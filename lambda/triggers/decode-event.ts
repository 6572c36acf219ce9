/**
 * Decoding the events the s3trigger function receives (docs/triggers.md §4) into one
 * canonical object event, whatever the envelope:
 *
 * - an S3 event notification (`{Records: [{eventSource: "aws:s3", …}]}`),
 *   delivered directly, in an SNS record (`Sns.Message`), in an SQS message
 *   (`body`), or in an SQS message holding an SNS notification
 *   (`{Type: "Notification", Message}`: SQS subscribed to SNS without raw
 *   message delivery);
 * - an EventBridge event from S3 (`detail-type` "Object Created", …),
 *   delivered directly or in an SQS message or SNS notification; its event
 *   type is the S3 notification name AWS maps it to (event-types.ts).
 *
 * S3's `s3:TestEvent` (sent when a notification configuration is saved) is
 * skipped without a trace. A record that cannot be decoded becomes a failure
 * carrying its SQS message id when it came in an SQS message, so the handler
 * can report a partial batch failure; the rest of the batch is decoded.
 */
import { eventBridgeEventType } from "./event-types";

/** One S3 object event, whichever envelope it came in. */
export interface ObjectEvent {
  readonly bucket: string;
  /** The object key, decoded (S3 notifications URL-encode it; EventBridge does not). */
  readonly key: string;
  /** Bytes; 0 when the event carries no size (e.g. deletions). */
  readonly size: number;
  readonly etag: string | undefined;
  readonly version_id: string | undefined;
  readonly sequencer: string | undefined;
  /** ISO 8601 in UTC (`2026-01-31T08:05:09.123Z`). */
  readonly event_time: string;
  /**
   * The S3 notification event name, whichever envelope: `ObjectCreated:Put`,
   * `ObjectRemoved:DeleteMarkerCreated`, … (EventBridge events are mapped to it).
   */
  readonly event_type: string;
  readonly aws_region: string | undefined;
  readonly source_ip: string | undefined;
  /** The S3 notification record or the EventBridge event, as received. */
  readonly raw: Record<string, unknown>;
}

export interface DecodedBatch {
  /** Decoded events in delivery order; `id` is the SQS message id when the envelope is SQS. */
  readonly records: { id: string | undefined; event: ObjectEvent }[];
  /** Records that could not be decoded; `id` is the SQS message id when the envelope is SQS. */
  readonly failures: { id: string | undefined; error: string }[];
}

type Raw = Record<string, unknown>;

/** A record that cannot be decoded; the message says where and why. */
class DecodeError extends Error {}

function isRecord(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A field that must be an object when present. */
function sub(value: Raw, field: string): Raw {
  const v = value[field];
  return isRecord(v) ? v : {};
}

/** An optional string field: absent, null and "" are `undefined`; numbers become strings. */
function optText(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

function requiredText(value: unknown, what: string, where: string): string {
  const text = typeof value === "string" ? value : undefined;
  if (text === undefined || text === "") throw new DecodeError(`${where}: no ${what}`);
  return text;
}

function sizeOf(value: unknown, where: string): number {
  if (value === undefined || value === null) return 0;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new DecodeError(`${where}: object size is not a byte count: ${JSON.stringify(value)}`);
  }
  return n;
}

function timeOf(value: unknown, where: string): string {
  if (value === undefined || value === null || value === "") return new Date().toISOString();
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new DecodeError(`${where}: event time is not a timestamp: ${JSON.stringify(value)}`);
  }
  return new Date(ms).toISOString();
}

/** S3 notification keys: `+` is a space, then percent-decoding (UTF-8). */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/** `where` names the text (`SQS message 1f… body`). */
function parseJson(text: unknown, where: string): unknown {
  if (typeof text !== "string") throw new DecodeError(`${where}: expected a JSON string`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DecodeError(`${where}: not valid JSON (${(err as Error).message})`);
  }
}

/** One record of an S3 event notification. */
function fromS3Record(record: Raw, where: string): ObjectEvent {
  const s3 = sub(record, "s3");
  const object = sub(s3, "object");
  const bucket = requiredText(sub(s3, "bucket").name, "s3.bucket.name", where);
  const encoded = requiredText(object.key, "s3.object.key", where);
  let key: string;
  try {
    key = decodeS3Key(encoded);
  } catch {
    throw new DecodeError(`${where}: s3.object.key is not valid URL encoding: ${encoded}`);
  }
  return {
    bucket,
    key,
    size: sizeOf(object.size, where),
    etag: optText(object.eTag),
    version_id: optText(object.versionId),
    sequencer: optText(object.sequencer),
    event_time: timeOf(record.eventTime, where),
    event_type: requiredText(record.eventName, "eventName", where),
    aws_region: optText(record.awsRegion),
    source_ip: optText(sub(record, "requestParameters").sourceIPAddress),
    raw: record,
  };
}

/** An EventBridge event from S3; its key is not encoded. */
function fromEventBridge(event: Raw, where: string): ObjectEvent {
  const detail = sub(event, "detail");
  const object = sub(detail, "object");
  const bucket = requiredText(sub(detail, "bucket").name, "detail.bucket.name", where);
  const key = requiredText(object.key, "detail.object.key", where);
  const detailType = requiredText(event["detail-type"], "detail-type", where);
  return {
    bucket,
    key,
    size: sizeOf(object.size, where),
    etag: optText(object.etag),
    version_id: optText(object["version-id"]),
    sequencer: optText(object.sequencer),
    event_time: timeOf(event.time, where),
    event_type: eventBridgeEventType(
      detailType,
      optText(detail.reason),
      optText(detail["deletion-type"]),
    ),
    aws_region: optText(event.region),
    source_ip: optText(detail["source-ip-address"]),
    raw: event,
  };
}

function isTestEvent(payload: Raw): boolean {
  return payload.Event === "s3:TestEvent";
}

function isEventBridge(payload: Raw): boolean {
  return "detail-type" in payload && "detail" in payload;
}

/** Collects records and failures, tagging each with the SQS message id in hand. */
class Batch implements DecodedBatch {
  readonly records: { id: string | undefined; event: ObjectEvent }[] = [];
  readonly failures: { id: string | undefined; error: string }[] = [];

  /** Run one decoding step; its failure is recorded and does not stop the batch. */
  attempt(id: string | undefined, step: () => void): void {
    try {
      step();
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.failures.push({ id, error: err.message });
    }
  }

  /**
   * A payload as it arrives directly or inside SNS/SQS: an S3 notification,
   * an S3 test event, an EventBridge event, or (inside SQS) an SNS
   * notification wrapping one of those. `where` names it in messages.
   */
  payload(payload: unknown, id: string | undefined, where: string, inSqs: boolean): void {
    if (!isRecord(payload)) {
      this.failures.push({ id, error: `${where}: expected a JSON object` });
    } else if (isTestEvent(payload)) {
      // S3 checks the destination when notifications are configured: nothing to do.
    } else if (Array.isArray(payload.Records)) {
      payload.Records.forEach((record, i) => {
        this.record(record, id, `${where}.Records[${i}]`);
      });
    } else if (isEventBridge(payload)) {
      this.attempt(id, () => {
        this.records.push({ id, event: fromEventBridge(payload, where) });
      });
    } else if (inSqs && payload.Type === "Notification" && "Message" in payload) {
      this.attempt(id, () => {
        const at = `${where}.Message`;
        this.payload(parseJson(payload.Message, at), id, at, false);
      });
    } else {
      this.failures.push({
        id,
        error: `${where}: not an S3 notification, SNS, SQS or EventBridge event`,
      });
    }
  }

  /** One element of a `Records` array: S3, SNS or SQS. */
  record(record: unknown, id: string | undefined, where: string): void {
    if (!isRecord(record)) {
      this.failures.push({ id, error: `${where}: expected an object` });
    } else if (record.eventSource === "aws:sqs") {
      const messageId = optText(record.messageId);
      const at = messageId ? `SQS message ${messageId} body` : `${where}.body`;
      this.attempt(messageId, () => {
        this.payload(parseJson(record.body, at), messageId, at, true);
      });
    } else if (record.EventSource === "aws:sns") {
      const at = `${where}.Sns.Message`;
      this.attempt(id, () => {
        this.payload(parseJson(sub(record, "Sns").Message, at), id, at, false);
      });
    } else if (record.eventSource === "aws:s3" || isRecord(record.s3)) {
      this.attempt(id, () => {
        this.records.push({ id, event: fromS3Record(record, where) });
      });
    } else {
      const source = record.eventSource ?? record.EventSource;
      this.failures.push({
        id,
        error: `${where}: unsupported event source ${JSON.stringify(source ?? null)}`,
      });
    }
  }
}

/**
 * Decode a Lambda event in any supported envelope into object events.
 * Never throws for bad input: what cannot be decoded is in `failures`.
 */
export function decodeEvent(event: unknown): DecodedBatch {
  const batch = new Batch();
  batch.payload(event, undefined, "event", false);
  return { records: batch.records, failures: batch.failures };
}
