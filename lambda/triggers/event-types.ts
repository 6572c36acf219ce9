/**
 * S3 event type names (docs/triggers.md §5). Triggers' `if_event_type` uses the names of
 * S3 event notifications (`ObjectCreated:Put`), so EventBridge events are given
 * the same names, as AWS maps them in the S3 user guide: "Amazon EventBridge
 * mapping and troubleshooting" (detail-type → S3 event type) and "EventBridge
 * event message structure" (`detail.reason`: PutObject, POST Object,
 * CopyObject, CompleteMultipartUpload; DeleteObject, Lifecycle Expiration;
 * `detail.deletion-type`: Permanently Deleted, Delete Marker Created).
 *
 * Removal events (`ObjectRemoved:*`, `LifecycleExpiration:*`) dispatch only
 * for triggers whose `if_event_type` names them.
 */

import { fnmatchAny } from "../shared/fnmatch";
import type { TriggerSpec } from "../spec/trigger";

/** "Object Created": `detail.reason` → S3 event type. */
const CREATED_BY_REASON: ReadonlyMap<string, string> = new Map([
  ["PutObject", "ObjectCreated:Put"],
  ["POST Object", "ObjectCreated:Post"],
  ["CopyObject", "ObjectCreated:Copy"],
  ["CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload"],
]);

/** "Object Deleted": `detail.reason` → the S3 event class (lifecycle deletions have their own). */
const DELETED_CLASS_BY_REASON: ReadonlyMap<string, string> = new Map([
  ["DeleteObject", "ObjectRemoved"],
  ["Lifecycle Expiration", "LifecycleExpiration"],
]);

/** "Object Deleted": `detail.deletion-type` → the S3 event name within its class. */
const DELETED_BY_DELETION_TYPE: ReadonlyMap<string, string> = new Map([
  ["Permanently Deleted", "Delete"],
  ["Delete Marker Created", "DeleteMarkerCreated"],
]);

/** The other detail-types: one S3 event type each. */
const BY_DETAIL_TYPE: ReadonlyMap<string, string> = new Map([
  ["Object Restore Initiated", "ObjectRestore:Post"],
  ["Object Restore Completed", "ObjectRestore:Completed"],
  ["Object Restore Expired", "ObjectRestore:Delete"],
  ["Object Storage Class Changed", "LifecycleTransition"],
  ["Object Access Tier Changed", "IntelligentTiering"],
  ["Object Tags Added", "ObjectTagging:Put"],
  ["Object Tags Deleted", "ObjectTagging:Delete"],
  ["Object ACL Updated", "ObjectAcl:Put"],
]);

const OBJECT_CREATED = "Object Created";
const OBJECT_DELETED = "Object Deleted";

/** The S3 event types of a deletion, every one that S3 sends. */
export const REMOVAL_EVENT_TYPES = [
  "ObjectRemoved:Delete",
  "ObjectRemoved:DeleteMarkerCreated",
  "LifecycleExpiration:Delete",
  "LifecycleExpiration:DeleteMarkerCreated",
] as const;

const squeeze = (text: string) => text.replace(/\s+/g, "");

/**
 * The S3 event type of an EventBridge event from S3: `Object Created` with
 * reason `PutObject` is `ObjectCreated:Put`, `Object Deleted` with reason
 * `DeleteObject` and deletion-type `Delete Marker Created` is
 * `ObjectRemoved:DeleteMarkerCreated`, and so on. A reason or deletion-type
 * AWS does not document keeps the class (`ObjectCreated:`, `ObjectRemoved:`)
 * with the value's words run together; an unknown detail-type is joined as
 * lava joins every one (`detail-type:reason`, whitespace removed).
 */
export function eventBridgeEventType(
  detailType: string,
  reason: string | undefined,
  deletionType: string | undefined,
): string {
  if (detailType === OBJECT_CREATED) {
    return CREATED_BY_REASON.get(reason ?? "") ?? `ObjectCreated:${squeeze(reason ?? "")}`;
  }
  if (detailType === OBJECT_DELETED) {
    const kind = DELETED_CLASS_BY_REASON.get(reason ?? "") ?? "ObjectRemoved";
    const what = DELETED_BY_DELETION_TYPE.get(deletionType ?? "") ?? squeeze(deletionType ?? "");
    return `${kind}:${what}`;
  }
  return BY_DETAIL_TYPE.get(detailType) ?? squeeze(`${detailType}:${reason ?? ""}`);
}

/** The `detail-type` and `detail` fields of the EventBridge event S3 sends for an S3 event type. */
export interface EventBridgeFields {
  readonly detailType: string;
  readonly reason?: string;
  readonly deletionType?: string;
}

/** Every S3 event type an EventBridge event of S3 is named by, with its fields. */
export const EVENTBRIDGE_FIELDS: ReadonlyMap<string, EventBridgeFields> = new Map([
  ...[...CREATED_BY_REASON].map(
    ([reason, type]) => [type, { detailType: OBJECT_CREATED, reason }] as const,
  ),
  ...[...DELETED_CLASS_BY_REASON].flatMap(([reason, kind]) =>
    [...DELETED_BY_DELETION_TYPE].map(
      ([deletionType, what]) =>
        [`${kind}:${what}`, { detailType: OBJECT_DELETED, reason, deletionType }] as const,
    ),
  ),
  ...[...BY_DETAIL_TYPE].map(([detailType, type]) => [type, { detailType }] as const),
]);

/** Whether an event type is a deletion: `ObjectRemoved:*` or `LifecycleExpiration:*`. */
export function isRemovalEventType(eventType: string): boolean {
  return eventType.startsWith("ObjectRemoved:") || eventType.startsWith("LifecycleExpiration:");
}

/**
 * Whether any enabled trigger asks for deletions: its `if_event_type` matches
 * one of {@link REMOVAL_EVENT_TYPES}. A stack needs "Object Deleted" events only then.
 */
export function wantsRemovalEvents(triggers: readonly TriggerSpec[]): boolean {
  return triggers.some((t) => {
    const patterns = t.if_event_type;
    return (
      t.enabled &&
      patterns !== undefined &&
      REMOVAL_EVENT_TYPES.some((type) => fnmatchAny(type, patterns))
    );
  });
}
