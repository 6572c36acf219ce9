/**
 * lava's crontab strings (docs/schedules.md §2): lava's lavasched job writes a job's
 * `schedule` into a dispatcher's crontab (lava/handlers/lavasched.py), so the syntax
 * is vixie cron's as cronie (the lava AMI's cron) parses it (cronie src/entry.c):
 * `*`, numbers, `a-b` ranges, `/n` steps after `*` or a range, comma lists,
 * three-letter month and day names (also in ranges), `0` or `7` for Sunday, and the
 * `@yearly` … `@hourly` shortcuts. Here each becomes EventBridge Scheduler's
 * six-field `cron(minute hour day-of-month month day-of-week year)` (docs/schedules.md §3).
 */

/** A parsed lava crontab: the values each field allows, and vixie's day rule. */
export interface CronSpec {
  /** Five fields, shortcuts expanded: what `lavasched` would put in the crontab. */
  readonly text: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** 1-31. */
  readonly days: readonly number[];
  /** 1-12. */
  readonly months: readonly number[];
  /** 0-6, Sunday 0 (cron's 7 folded into 0). */
  readonly weekdays: readonly number[];
  /**
   * vixie's DOM_STAR/DOW_STAR: a day field whose text starts with `*` (even `*\/2`).
   * With either set a day must match both fields; with neither, either field.
   */
  readonly dayStar: boolean;
  readonly weekdayStar: boolean;
}

/** A crontab lava's cron would refuse, or one Scheduler cannot express. */
export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CronError";
  }
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** Scheduler's day-of-week names; in order they are its 1-7, cron's 0-6. */
const AWS_DAYS = DAYS.map((d) => d.toUpperCase());

/** cronie's shortcuts (vixie's @-forms), as the five fields they set. */
export const CRON_SHORTCUTS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min+1, … (cronie: case-insensitive, three letters). */
  readonly names?: readonly string[];
}
const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day-of-week", min: 0, max: 7, names: DAYS },
];

const ITEM = /^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:\/(\d+))?$/i;

function value(field: Field, text: string, item: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < field.min || n > field.max)
      throw new CronError(`${field.name}: ${n} is out of range ${field.min}-${field.max}`);
    return n;
  }
  const i = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (i < 0) {
    const names = field.names ? ` or ${field.names.join("/")}` : "";
    throw new CronError(`${field.name}: "${item}": expected numbers${names}`);
  }
  return field.min + i;
}

/** One field's values, as cronie's get_list/get_range read them. */
function parseField(field: Field, text: string): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(",")) {
    if (/[#?~$]/.test(item) || /^(\d*L|\d+W|LW)$/i.test(item)) {
      throw new CronError(
        `${field.name}: "${item}": not standard cron ` +
          "(L, W, #, ?, ~ and $ are extensions lava advises against)",
      );
    }
    const m = ITEM.exec(item);
    if (!m) throw new CronError(`${field.name}: "${item}": expected *, n, a-b, */n or a-b/n`);
    const [, range = "", stepText] = m;
    // Sunday is 0 and 7: `*` is 0-6, so 7 is never a second Sunday.
    const top = field.max === 7 ? 6 : field.max;
    let lo = field.min;
    let hi = top;
    if (range !== "*") {
      const [a = "", b] = range.split("-");
      lo = value(field, a, item);
      hi = b === undefined ? lo : value(field, b, item);
      if (b === undefined && stepText !== undefined)
        throw new CronError(
          `${field.name}: "${item}": a step needs * or a range (cron refuses n/step): ` +
            `write ${lo}-${top}/${stepText}`,
        );
      if (lo > hi) throw new CronError(`${field.name}: "${item}": the range runs backwards`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new CronError(`${field.name}: "${item}": a step of 0`);
    for (let v = lo; v <= hi; v += step) out.add(field.max === 7 && v === 7 ? 0 : v);
  }
  return out;
}

/** Parse a lava crontab string; `CronError` names the field at fault. */
export function parseCron(crontab: string): CronSpec {
  const trimmed = crontab.trim();
  if (trimmed === "@reboot")
    throw new CronError("@reboot runs when a dispatcher boots, and there is no dispatcher here");
  const text = trimmed.startsWith("@") ? CRON_SHORTCUTS[trimmed] : trimmed.split(/\s+/).join(" ");
  if (text === undefined)
    throw new CronError(`expected one of ${Object.keys(CRON_SHORTCUTS).join(", ")}`);
  const parts = text.split(" ");
  if (parts.length !== 5)
    throw new CronError("expected 5 fields: minute hour day-of-month month day-of-week");
  const [minutes, hours, days, months, weekdays] = FIELDS.map((f, i) =>
    [...parseField(f, parts[i] ?? "")].sort((a, b) => a - b),
  ) as [number[], number[], number[], number[], number[]];
  const spec: CronSpec = {
    text,
    minutes,
    hours,
    days,
    months,
    weekdays,
    dayStar: (parts[2] ?? "").startsWith("*"),
    weekdayStar: (parts[4] ?? "").startsWith("*"),
  };
  toSchedulerCrons(spec); // refuses what Scheduler cannot run, or what never fires
  return spec;
}

/** Days in a month, February with its 29th (it fires in leap years). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether a day (weekday 0-6, Sunday 0) is one the crontab fires on: vixie's rule. */
export function cronMatchesDay(spec: CronSpec, month: number, day: number, weekday: number) {
  if (!spec.months.includes(month)) return false;
  const dom = spec.days.includes(day);
  const dow = spec.weekdays.includes(weekday);
  return spec.dayStar || spec.weekdayStar ? dom && dow : dom || dow;
}

/**
 * One field in Scheduler's syntax: `*` when every value, `a/n` for a progression
 * to the field's end, `a-b/n` for one inside it, else runs `a-b` and singles.
 */
function render(values: readonly number[], min: number, max: number, names?: readonly string[]) {
  if (values.length === max - min + 1) return "*";
  const show = (v: number) => names?.[v - min] ?? String(v);
  const [first = 0, second = 0] = values;
  const step = second - first;
  const progression =
    !names && values.length >= 3 && step > 1 && values.every((v, i) => v === first + i * step);
  if (progression) {
    const last = values[values.length - 1] ?? first;
    return last + step > max ? `${first}/${step}` : `${first}-${last}/${step}`;
  }
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && (values[j + 1] ?? 0) === (values[j] ?? 0) + 1) j++;
    const [a = 0, b = 0] = [values[i], values[j]];
    out.push(a === b ? show(a) : `${show(a)}-${show(b)}`);
    i = j + 1;
  }
  return out.join(",");
}

/** Which of the crontab's day fields a Scheduler expression carries (the other is `?`). */
export type DayField = "day-of-month" | "day-of-week";

/**
 * The Scheduler expressions firing when the crontab does. Scheduler needs `?` in
 * one day field, so a crontab restricting both (vixie ORs them) becomes two
 * expressions, one per field; a day matching both then fires twice (docs/schedules.md §3).
 */
export function toSchedulerCrons(spec: CronSpec): { expression: string; days: DayField }[] {
  const minute = render(spec.minutes, 0, 59);
  const hour = render(spec.hours, 0, 23);
  const month = render(spec.months, 1, 12);
  const dom = render(spec.days, 1, 31);
  const dow = render(spec.weekdays, 0, 6, AWS_DAYS);
  type Out = { expression: string; days: DayField };
  const byDay: Out = {
    expression: `cron(${minute} ${hour} ${dom} ${month} ? *)`,
    days: "day-of-month",
  };
  const byWeekday: Out = {
    expression: `cron(${minute} ${hour} ? ${month} ${dow} *)`,
    days: "day-of-week",
  };
  const everyDay: Out = {
    expression: `cron(${minute} ${hour} * ${month} ? *)`,
    days: "day-of-month",
  };
  // A day-of-month list that no month of the month field has (30 February) never fires.
  const daysFire = spec.months.some((m) => spec.days.some((d) => d <= (MONTH_DAYS[m - 1] ?? 31)));
  let out: Out[];
  if (spec.dayStar || spec.weekdayStar) {
    // Both fields must match: one of them must allow every value.
    if (dow === "*") out = daysFire ? [byDay] : [];
    else if (dom === "*") out = [byWeekday];
    else
      throw new CronError(
        "day-of-month starting with * and a day-of-week means both must match (vixie cron), " +
          "which EventBridge Scheduler cannot express: list the days without *",
      );
  } else if (dom === "*" || dow === "*") out = [everyDay];
  else out = daysFire ? [byDay, byWeekday] : [byWeekday];
  if (out.length === 0)
    throw new CronError("never fires: no month in the month field has those days");
  if (out.some((o) => o.expression.length > 256))
    throw new CronError("too long for EventBridge Scheduler (256 characters)");
  return out;
}
