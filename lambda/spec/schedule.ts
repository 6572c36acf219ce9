/**
 * A job's `schedule` (docs/schedules.md §1), read as lava reads it (lava/lavacore.py
 * `JobSchedule`, lava/handlers/lavasched.py): a crontab string, a `{crontab, from?, to?}`
 * mapping, or a list mixing both. `from`/`to` are ISO 8601 date-times; the entry is
 * active from `from` to `to`, or outside them when `from` is after `to`. A date-time
 * without an offset is in the realm's `timezone` (lava: the dispatcher's local time),
 * as are the crontabs (lava: the dispatcher's `CRON_TZ`).
 */
import { z } from "zod";
import { SpecError } from "../shared/errors";
import { instantOf, instantsOf, offsetAt, timeZoneProblem } from "../shared/zoned";
import {
  CronError,
  type CronSpec,
  cronMatchesDay,
  type DayField,
  parseCron,
  toSchedulerCrons,
} from "./cron";
import { fieldPath, showValue } from "./format";

/**
 * The field of a scheduled run's state machine input holding the time Scheduler fired
 * it for (ISO 8601, UTC, `<aws.scheduler.scheduled-time>`): what `max_run_delay` is
 * measured from (docs/schedules.md §5).
 */
export const SCHEDULED_AT = "scheduled_at";

/** One crontab of a job's schedule, with its window and time zone. */
export interface ScheduleEntry {
  /** Where it is in the job: `schedule`, `schedule[1]`. */
  readonly at: string;
  /** lava's five fields (shortcuts such as `@daily` expanded). */
  readonly cron: string;
  readonly spec: CronSpec;
  readonly from?: Date;
  readonly to?: Date;
  /** IANA name: the crontab's and the offset-less dates' zone. */
  readonly timezone: string;
}

/** A problem in a schedule: its path below `schedule`, message and bad value. */
export interface ScheduleProblem {
  readonly path: (string | number)[];
  readonly message: string;
  readonly input: unknown;
  readonly unknownField?: boolean;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far `nextRuns` looks: beyond every leap-day and weekday cycle. */
const HORIZON_DAYS = 400 * 366;
const ISO = new RegExp(
  String.raw`^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?` +
    String.raw`\s*(Z|[+-]\d{2}(?::?\d{2})?)?$`,
  "i",
);
const WHEN =
  "expected an ISO 8601 date-time like 2019-06-30T00:00:00Z (no offset: the realm's timezone)";

/** An ISO 8601 date or date-time as an instant; `undefined` when it is not one. */
export function parseWhen(text: string, timeZone: string): number | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0));
  const w = { year: year ?? 0, month: month ?? 0, day: day ?? 0, hour: hour ?? 0 };
  const wall = { ...w, minute: minute ?? 0, second: second ?? 0 };
  const utc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const back = new Date(utc);
  if (back.getUTCFullYear() !== wall.year || back.getUTCMonth() !== wall.month - 1)
    return undefined;
  if (back.getUTCDate() !== wall.day || back.getUTCHours() !== wall.hour) return undefined;
  if (back.getUTCMinutes() !== wall.minute || back.getUTCSeconds() !== wall.second)
    return undefined;
  const ms = Math.floor(Number(`0.${m[7] ?? "0"}`) * 1000);
  const zone = m[8];
  if (zone === undefined) return instantOf(timeZone, wall) + ms;
  if (/^z$/i.test(zone)) return utc + ms;
  const [, sign, hh, mm] = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone) ?? [];
  const offset = (Number(hh) * 60 + Number(mm ?? 0)) * MINUTE;
  return utc + ms - (sign === "-" ? -offset : offset);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Read a `schedule` value: its entries, or every problem. Absent, null, "" and "--" are none. */
export function readSchedule(
  value: unknown,
  timeZone = "UTC",
): { entries: ScheduleEntry[]; problems: ScheduleProblem[] } {
  const entries: ScheduleEntry[] = [];
  const problems: ScheduleProblem[] = [];
  const problem = (path: (string | number)[], message: string, input: unknown) =>
    problems.push({ path, message, input });
  const crontab = (text: unknown, path: (string | number)[]) => {
    if (typeof text !== "string") {
      problem(path, 'expected a crontab like "0 12 * * 1-5"', text);
      return undefined;
    }
    try {
      return parseCron(text);
    } catch (err) {
      if (!(err instanceof CronError)) throw err;
      problem(path, err.message, text);
      return undefined;
    }
  };
  const when = (v: unknown, path: (string | number)[]) => {
    if (v === undefined) return undefined;
    const t = typeof v === "string" ? parseWhen(v, timeZone) : undefined;
    if (t === undefined) problem(path, WHEN, v);
    return t === undefined ? undefined : new Date(t);
  };
  const one = (v: unknown, path: (string | number)[]) => {
    const at = fieldPath(["schedule", ...path]);
    if (typeof v === "string") {
      const spec = crontab(v, path);
      if (spec) entries.push({ at, cron: spec.text, spec, timezone: timeZone });
      return;
    }
    if (!isRecord(v)) {
      problem(path, "expected a crontab, a mapping {crontab, from?, to?} or a list of them", v);
      return;
    }
    // lava's dict_check refuses other keys too (its own doc example's "to:" among them).
    for (const k of Object.keys(v).filter((k) => !["crontab", "from", "to"].includes(k)))
      problems.push({
        path: [...path, k],
        message: "unknown field",
        input: v[k],
        unknownField: true,
      });
    const spec = v.crontab === undefined ? undefined : crontab(v.crontab, [...path, "crontab"]);
    if (v.crontab === undefined)
      problem([...path, "crontab"], 'expected a crontab like "0 12 * * 1-5"', undefined);
    const from = when(v.from, [...path, "from"]);
    const to = when(v.to, [...path, "to"]);
    if (!spec) return;
    entries.push({
      at,
      cron: spec.text,
      spec,
      timezone: timeZone,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    });
  };
  if (value === undefined || value === null) return { entries, problems };
  if (typeof value === "string" && ["", "--"].includes(value.trim())) return { entries, problems };
  if (!Array.isArray(value)) one(value, []);
  else for (const [i, v] of value.entries()) one(v, [i]);
  return { entries, problems };
}

/** `schedule[1].crontab: <message>, got <value>` lines, as the realm validator words them. */
export function scheduleMessages(problems: readonly ScheduleProblem[], field = "schedule") {
  return problems.map((p) => {
    const at = fieldPath([field, ...p.path]);
    if (p.unknownField) return `${at}: unknown field`;
    return p.input === undefined
      ? `${at}: required: ${p.message}`
      : `${at}: ${p.message}, got ${showValue(p.input)}`;
  });
}

/** A job's schedule entries in `timeZone`; `SpecError` listing every problem. */
export function parseSchedule(value: unknown, timeZone = "UTC"): ScheduleEntry[] {
  const { entries, problems } = readSchedule(value, timeZone);
  if (problems.length > 0) throw new SpecError(scheduleMessages(problems));
  return entries;
}

/** The job field `schedule`: checked as `readSchedule` reads it, kept as written. */
export const scheduleField = () =>
  z.unknown().superRefine((value, ctx) => {
    for (const p of readSchedule(value).problems) {
      if (p.unknownField)
        ctx.addIssue({
          code: "unrecognized_keys",
          keys: [String(p.path.at(-1))],
          path: p.path.slice(0, -1),
        });
      else ctx.addIssue({ code: "custom", message: p.message, path: p.path, input: p.input });
    }
  });

/** The realm field `timezone`: an IANA name Scheduler takes. */
export const timeZoneField = () =>
  z
    .string({ error: "expected an IANA time zone like Australia/Sydney or UTC" })
    .superRefine((name, ctx) => {
      const problem = timeZoneProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: name });
    });

/** lava's rule (`JobSchedule.active`): inside [from, to], or outside (to, from) when from > to. */
export function activeAt(entry: ScheduleEntry, t: number): boolean {
  const from = entry.from?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = entry.to?.getTime() ?? Number.POSITIVE_INFINITY;
  return (from <= t && t <= to) || (from > to && (t <= to || t >= from));
}

/**
 * The next `n` fire times after `after` of one entry, as Scheduler fires them in its
 * time zone: a wall-clock time a spring-forward skips does not fire, one a
 * fall-back repeats fires once, the first time (docs/schedules.md §4).
 */
function entryRuns(entry: ScheduleEntry, after: number, n: number): number[] {
  const out: number[] = [];
  const { spec, timezone } = entry;
  const from = entry.from?.getTime();
  const to = entry.to?.getTime();
  const inside = from === undefined || to === undefined || from <= to;
  if (inside && to !== undefined && to <= after) return out;
  const start = inside && from !== undefined ? Math.max(after, from) : after;
  // Wall-clock times as if UTC: anything 3 hours before the start's is surely past.
  const floor = start + offsetAt(timezone, start) - 3 * 3_600_000;
  for (
    let day = Math.floor(floor / DAY) * DAY, end = day + HORIZON_DAYS * DAY;
    day <= end;
    day += DAY
  ) {
    const d = new Date(day);
    const [year, month, date] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    if (!cronMatchesDay(spec, month, date, d.getUTCDay())) continue;
    for (const hour of spec.hours) {
      for (const minute of spec.minutes) {
        if (day + hour * 3_600_000 + minute * MINUTE < floor) continue;
        const [t] = instantsOf(timezone, { year, month, day: date, hour, minute, second: 0 });
        if (t === undefined || t <= after) continue;
        if (activeAt(entry, t)) out.push(t);
        else if (inside && to !== undefined && t > to) return out;
        if (out.length >= n) return out;
      }
    }
  }
  return out;
}

/** The next `n` times after `from` any entry fires, each instant once. */
export function nextRuns(entries: readonly ScheduleEntry[], from: Date, n = 5): Date[] {
  const all = new Set(entries.flatMap((e) => entryRuns(e, from.getTime(), n)));
  return [...all]
    .sort((a, b) => a - b)
    .slice(0, n)
    .map((t) => new Date(t));
}

/** One EventBridge Scheduler schedule for (part of) an entry (docs/schedules.md §3). */
export interface SchedulerPlan {
  readonly entry: ScheduleEntry;
  /** `cron(0 12 ? * MON-FRI *)`. */
  readonly expression: string;
  /** The day field the expression carries; a crontab restricting both has one plan each. */
  readonly days: DayField;
  /** `StartDate`: a second before the window's first whole minute; none once it is past. */
  readonly start?: Date;
  /** `EndDate`: a second after the window's last whole minute. */
  readonly end?: Date;
}

/**
 * The schedules an entry needs at `now`: one per expression and window part.
 * `from` after `to` (active outside) is two parts, one ending at `to`, one
 * starting at `from`. Parts already over are left out, as lavasched leaves
 * inactive entries out of the crontab, and past start dates (Scheduler refuses
 * a StartDate more than 5 minutes ago).
 */
export function schedulerPlans(
  entries: readonly ScheduleEntry[],
  now = new Date(),
): SchedulerPlan[] {
  // Whole minutes are what fire: these bounds hold whether Scheduler's are inclusive or not.
  const first = (t: number) => Math.ceil(t / MINUTE) * MINUTE - 1000;
  const last = (t: number) => Math.floor(t / MINUTE) * MINUTE + 1000;
  return entries.flatMap((entry) => {
    const from = entry.from?.getTime();
    const to = entry.to?.getTime();
    const parts: { start?: number; end?: number }[] =
      from !== undefined && to !== undefined && from > to
        ? [{ end: last(to) }, { start: first(from) }]
        : [
            {
              ...(from !== undefined ? { start: first(from) } : {}),
              ...(to !== undefined ? { end: last(to) } : {}),
            },
          ];
    return parts
      .filter(
        (p) =>
          (p.end === undefined || p.end > now.getTime()) &&
          !(p.start !== undefined && p.end !== undefined && p.start >= p.end),
      )
      .flatMap((p) =>
        toSchedulerCrons(entry.spec).map(({ expression, days }) => ({
          entry,
          expression,
          days,
          ...(p.start !== undefined && p.start > now.getTime() ? { start: new Date(p.start) } : {}),
          ...(p.end !== undefined ? { end: new Date(p.end) } : {}),
        })),
      );
  });
}

/** What a job needs to be scheduled: an id, `enabled`, and maybe a `schedule`. */
interface Schedulable {
  readonly job_id: string;
  readonly enabled: boolean | string;
  readonly schedule?: unknown;
}

/**
 * The jobs that get schedules, with their entries: those with a schedule that are
 * enabled, or whose `enabled` is a template (Resolve renders it on each run and
 * skips the run when it is false).
 */
export function scheduledJobs<J extends Schedulable>(
  jobs: readonly J[],
  timeZone = "UTC",
): { job: J; entries: ScheduleEntry[] }[] {
  return jobs
    .filter((job) => job.enabled !== false)
    .map((job) => ({ job, entries: parseSchedule(job.schedule, timeZone) }))
    .filter((s) => s.entries.length > 0);
}
