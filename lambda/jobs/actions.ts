/**
 * Running a job's actions (docs/actions.md §2): the list for the event — the job's,
 * else the realm's — in order, each rendered as lava renders it (the run's
 * variables plus `result`), then sent. Best effort, as in lava: a failing action
 * is reported in the events and the next one still runs; the job's outcome never
 * changes because of an action.
 */
import { createHash } from "node:crypto";
import { renderDeep, renderTemplate } from "../shared/templating";
import { ACTION_EVENTS, type ActionEvent, type ActionSpec } from "../spec/actions";
import type { JobSpec } from "../spec/job";
import type { Realm } from "../spec/realm";
import { parseDuration } from "../spec/units";
import { runContext } from "./run-context";
import type { ActionSenders, JobResult } from "./types";

export type { ActionSenders } from "./types";

/** The actions for an event: the job's list if it has one, else the realm's. */
export function actionsFor(realm: Realm, job: JobSpec, event: ActionEvent): readonly ActionSpec[] {
  return job[event] ?? realm.top[event] ?? [];
}

/** How many actions each event has (for the state machine's choices). */
export function actionCounts(realm: Realm, job: JobSpec): Record<ActionEvent, number> {
  return Object.fromEntries(
    ACTION_EVENTS.map((e) => [e, actionsFor(realm, job, e).length]),
  ) as Record<ActionEvent, number>;
}

/** lava's `result` as its templates know it: `exit_status`, `error` as text. */
function lavaResult(result: JobResult): Record<string, unknown> {
  const { events: _events, ...rest } = result;
  return {
    ...rest,
    exit_status: result.status === "failed" ? 1 : 0,
    ...(result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}),
  };
}

const asText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

export interface ActionRun {
  readonly realm: Realm;
  readonly job: JobSpec;
  readonly runId: string;
  readonly globals: Record<string, unknown>;
  readonly start: Date;
  readonly result: JobResult;
}

/** Run the event's actions; returns one line per action for the run's events. */
export async function runActions(
  event: ActionEvent,
  run: ActionRun,
  send: ActionSenders,
): Promise<string[]> {
  const list = actionsFor(run.realm, run.job, event);
  const ctx = { ...runContext(run, {}), result: lavaResult(run.result) };
  const lines: string[] = [];
  for (const [i, action] of list.entries()) {
    const at = `job ${run.job.job_id}: ${event}[${i}]`;
    try {
      const done = await runOne(action, i, event, run, ctx, at, send);
      lines.push(`${event}[${i}] ${action.action}: ${done}`);
    } catch (err) {
      const e = err as Error;
      lines.push(`${event}[${i}] ${action.action} failed: ${e.name}: ${e.message}`);
    }
  }
  return lines;
}

async function runOne(
  action: ActionSpec,
  i: number,
  event: ActionEvent,
  run: ActionRun,
  ctx: Record<string, unknown>,
  at: string,
  send: ActionSenders,
): Promise<string> {
  const render = (v: string, field: string) => renderTemplate(v, ctx, `${at}.${field}`);
  const body = (v: unknown) => asText(renderDeep(v, ctx, `${at}.message`));
  const seconds = (d: string | number | undefined) =>
    d === undefined ? undefined : Math.round((parseDuration(d) ?? 0) / 1000);
  switch (action.action) {
    case "sns": {
      // lava truncates the rendered subject to SNS's 100 characters.
      const subject = action.subject === undefined ? undefined : render(action.subject, "subject");
      await send.sns(action.topic, body(action.message), subject?.slice(0, 100));
      return `published to ${action.topic}`;
    }
    case "sqs": {
      await send.sqs(action.queue, body(action.message), {
        ...(action.delay === undefined ? {} : { delaySeconds: seconds(action.delay) }),
        ...(action.group_id === undefined ? {} : { groupId: render(action.group_id, "group_id") }),
        ...(action.dedup_id === undefined ? {} : { dedupId: render(action.dedup_id, "dedup_id") }),
      });
      return `sent to ${action.queue}`;
    }
    case "event": {
      const detail =
        action.detail === undefined
          ? JSON.stringify({
              realm: run.realm.name,
              worker: "lava-aurora",
              job_id: run.job.job_id,
              run_id: run.runId,
              exit_status: run.result.status === "failed" ? 1 : 0,
            })
          : body(action.detail);
      const bus =
        action.event_bus === undefined ? "default" : render(action.event_bus, "event_bus");
      await send.event({
        bus,
        source:
          action.source === undefined ? `lava.${run.realm.name}` : render(action.source, "source"),
        detailType:
          action.detail_type === undefined
            ? "Lava Job Action"
            : render(action.detail_type, "detail_type"),
        detail,
        resources: (action.resources ?? []).map((r, k) => render(r, `resources[${k}]`)),
      });
      return `event on bus ${bus}`;
    }
    case "log": {
      const message = render(action.message, "message");
      send.log(message);
      return message;
    }
    case "dispatch": {
      const jobId = render(action.job_id, "job_id");
      const parameters = (renderDeep(action.parameters ?? {}, ctx, `${at}.parameters`) ??
        {}) as Record<string, unknown>;
      // The same action of the same run dispatches once, however often it is retried.
      const name = `act-${createHash("sha256").update(`${run.runId}|${event}|${i}`).digest("hex").slice(0, 32)}`;
      const delay = seconds(action.delay);
      await send.dispatch(
        {
          job_id: jobId,
          parameters,
          globals: run.globals,
          ...(delay === undefined ? {} : { delay }),
        },
        name,
      );
      return `dispatched ${jobId}${delay ? ` (delay ${delay}s)` : ""}`;
    }
    default:
      return "lava's action type, not run here";
  }
}
