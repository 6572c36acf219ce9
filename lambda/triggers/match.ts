/**
 * Which jobs an object event starts, with what (docs/triggers.md §2).
 *
 * For `a/b/c.csv` in `mybucket`, the triggers of `mybucket` with prefix
 * `a/b/c.csv`, else `a/b`, else `a`, else `*`: only the first level that has
 * any trigger at all is considered, even if all of them are then disabled or
 * fail their conditions. Of those, disabled ones are dropped, then those
 * whose conditions fail; each job id of each remaining trigger (realm order,
 * then list order) is one dispatch, with its job id, parameters and globals
 * rendered (unless `jinja: false`). Objects under the realm's `s3_temp` match
 * nothing: they are our own copies. Deletions reach only the triggers whose
 * `if_event_type` names them. A trigger whose templates fail is reported and
 * dispatches nothing; the other triggers of the object dispatch all the same.
 */

import { fnmatchAny } from "../shared/fnmatch";
import { isUnderLocation } from "../shared/s3-objects";
import { dtEnv, renderDeep, renderTemplate, templateUtils } from "../shared/templating";
import type { Realm } from "../spec/realm";
import type { TriggerSpec } from "../spec/trigger";
import { parseDuration, parseSize } from "../spec/units";
import type { ObjectEvent } from "./decode-event";
import { isRemovalEventType } from "./event-types";

/** One job to start for one object event. */
export interface TriggerDispatch {
  readonly trigger_id: string;
  readonly job_id: string;
  readonly parameters: Record<string, unknown>;
  readonly globals: Record<string, unknown>;
  /**
   * The parameters this trigger rendered (they may hold text from the S3 key):
   * the runner takes them literally, never rendering them a second time.
   */
  readonly literal_parameters: readonly string[];
  /** Seconds to wait before the job runs (0…900). */
  readonly delay: number;
}

/** The whole-bucket level. */
export const WHOLE_BUCKET = "*";

/**
 * The prefix levels looked up for a key, most specific first: the key, each
 * parent (as Python's `os.path.dirname`, so repeated slashes collapse), then
 * `*`. `"a/b/c.csv"` → `["a/b/c.csv", "a/b", "a", "*"]`.
 */
export function prefixLevels(key: string): string[] {
  const levels: string[] = [];
  let level = key;
  while (level !== "") {
    levels.push(level);
    const slash = level.lastIndexOf("/");
    level = slash < 0 ? "" : level.slice(0, slash).replace(/\/+$/, "");
  }
  levels.push(WHOLE_BUCKET);
  return levels;
}

/**
 * Whether an object is under the realm's `s3_temp` (a path prefix: `tmp`
 * covers `tmp/x`, not `tmpx`; no prefix covers the whole bucket). False
 * when the realm has no `s3_temp`.
 */
export function inTemp(realm: Realm, bucket: string, key: string): boolean {
  const location = realm.top.s3_temp;
  return location !== undefined && isUnderLocation(location, bucket, key);
}

function sizeLimit(trigger: TriggerSpec, value: string | number): number {
  const bytes = parseSize(value);
  // Validated with the realm; a bad size here is a programming error.
  if (bytes === undefined) throw new Error(`trigger ${trigger.trigger_id}: bad size ${value}`);
  return bytes;
}

/**
 * Whether every condition of a trigger holds for the event. A removal
 * (`ObjectRemoved:*`, `LifecycleExpiration:*`) never holds for a trigger
 * without `if_event_type`: a trigger sees deletions only when it names them.
 */
export function conditionsHold(trigger: TriggerSpec, event: ObjectEvent): boolean {
  const t = trigger;
  if (t.if_event_type === undefined && isRemovalEventType(event.event_type)) return false;
  if (t.if_fnmatch !== undefined && !fnmatchAny(event.key, t.if_fnmatch)) return false;
  if (t.if_not_fnmatch !== undefined && fnmatchAny(event.key, t.if_not_fnmatch)) return false;
  if (t.if_size_gt !== undefined && !(event.size > sizeLimit(t, t.if_size_gt))) return false;
  if (t.if_not_size_gt !== undefined && event.size > sizeLimit(t, t.if_not_size_gt)) return false;
  if (t.if_event_type !== undefined && !fnmatchAny(event.event_type, t.if_event_type)) {
    return false;
  }
  if (t.if_not_event_type !== undefined && fnmatchAny(event.event_type, t.if_not_event_type)) {
    return false;
  }
  return true;
}

/** The triggers considered for an event: its bucket's, at the first level that has any. */
export function triggersAtLevel(realm: Realm, event: ObjectEvent): TriggerSpec[] {
  const ofBucket = realm.triggers.filter((t) => t.bucket === event.bucket);
  for (const level of prefixLevels(event.key)) {
    const found = ofBucket.filter((t) => t.prefix === level);
    if (found.length > 0) return found;
  }
  return [];
}

/** The template variables of a trigger: `bucket`, `key`, `info`, `event`, `utils`, `realm`. */
export function triggerContext(realm: Realm, event: ObjectEvent): Record<string, unknown> {
  return {
    bucket: event.bucket,
    key: event.key,
    info: {
      bucket: event.bucket,
      key: event.key,
      size: event.size,
      event_time: new Date(event.event_time),
      event_type: event.event_type,
      aws_region: event.aws_region,
      source_ip: event.source_ip,
    },
    event: event.raw,
    utils: templateUtils(dtEnv()),
    realm: realm.name,
  };
}

function delaySeconds(trigger: TriggerSpec): number {
  if (trigger.delay === undefined) return 0;
  const ms = parseDuration(trigger.delay);
  if (ms === undefined) {
    throw new Error(`trigger ${trigger.trigger_id}: bad delay ${trigger.delay}`);
  }
  // Whole seconds (a Step Functions Wait takes an integer), never shorter than asked.
  return Math.ceil(ms / 1000);
}

function asMapping(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The dispatches of one trigger, all or none: it throws (TemplateError, …) if any cannot be rendered. */
function dispatchesOf(trigger: TriggerSpec, context: Record<string, unknown>): TriggerDispatch[] {
  const id = trigger.trigger_id;
  const render = trigger.jinja !== false;
  const parameters = trigger.parameters ?? {};
  const globals = trigger.globals ?? {};
  const rendered = {
    parameters: render
      ? asMapping(renderDeep(parameters, context, `trigger ${id}: parameters`))
      : parameters,
    globals: render ? asMapping(renderDeep(globals, context, `trigger ${id}: globals`)) : globals,
  };
  const delay = delaySeconds(trigger);
  const jobIds = typeof trigger.job_id === "string" ? [trigger.job_id] : trigger.job_id;
  return jobIds.map((jobId, i) => {
    const what = `trigger ${id}: job_id${typeof trigger.job_id === "string" ? "" : `[${i}]`}`;
    return {
      trigger_id: id,
      job_id: render ? renderTemplate(jobId, context, what).trim() : jobId,
      // Each dispatch its own copy: nothing downstream can alter the realm or a sibling.
      parameters: structuredClone(rendered.parameters),
      globals: structuredClone(rendered.globals),
      literal_parameters: render ? Object.keys(rendered.parameters) : [],
      delay,
    };
  });
}

/** A trigger that fired but could not be turned into dispatches. */
export interface TriggerFailure {
  readonly trigger_id: string;
  /** A TemplateError naming the trigger and field (`trigger <id>: parameters.table: template error: …`). */
  readonly error: Error;
}

/** What an object event causes: the dispatches, and the triggers that failed. */
export interface TriggerMatch {
  readonly dispatches: TriggerDispatch[];
  readonly failures: TriggerFailure[];
}

/**
 * The dispatches an object event causes in a realm (see the module comment).
 * A trigger whose templates fail dispatches none of its jobs and is reported
 * in `failures`; the other triggers of the object dispatch all the same.
 */
export function matchTriggers(realm: Realm, event: ObjectEvent): TriggerMatch {
  const match: TriggerMatch = { dispatches: [], failures: [] };
  if (inTemp(realm, event.bucket, event.key)) return match;
  const triggers = triggersAtLevel(realm, event).filter(
    (t) => t.enabled && conditionsHold(t, event),
  );
  if (triggers.length === 0) return match;
  const context = triggerContext(realm, event);
  for (const trigger of triggers) {
    try {
      match.dispatches.push(...dispatchesOf(trigger, context));
    } catch (err) {
      match.failures.push({
        trigger_id: trigger.trigger_id,
        error: err instanceof Error ? err : new Error(String(err)),
      });
    }
  }
  return match;
}
