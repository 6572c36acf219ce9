/**
 * An evaluator of EventBridge Scheduler's six-field `cron(...)` expressions, written
 * from AWS's documentation alone (not from lambda/spec/cron.ts), so that converted
 * lava crontabs can be checked against what Scheduler would do: fields minute hour
 * day-of-month month day-of-week year; `*`, `?`, lists, `a-b`, `a/n`, `a-b/n`, `*\/n`;
 * MON…SUN and JAN…DEC names; day-of-week 1-7 is SUN-SAT. In the schedule's time
 * zone a wall-clock time a spring-forward skips does not fire, one a fall-back
 * repeats fires once (AWS: "your schedule runs only once").
 */

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function field(text: string, min: number, max: number, names: string[] = []): Set<number> | "?" {
  if (text === "?") return "?";
  const out = new Set<number>();
  const num = (s: string) => {
    const i = names.indexOf(s.toUpperCase());
    const n = i >= 0 ? i + min : Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`bad value ${s} in ${text}`);
    return n;
  };
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo = min;
    let hi = max;
    if (range !== "*") {
      const [a = "", b] = range.split("-");
      lo = num(a);
      // AWS: "0/15" means from 0 every 15 to the field's end.
      hi = b !== undefined ? num(b) : stepText !== undefined ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export interface SchedulerCron {
  readonly minutes: Set<number>;
  readonly hours: Set<number>;
  readonly days: Set<number> | "?";
  readonly months: Set<number>;
  /** 1-7, SUN 1. */
  readonly weekdays: Set<number> | "?";
}

export function parseSchedulerCron(expression: string): SchedulerCron {
  const m = /^cron\((.*)\)$/.exec(expression);
  const parts = m?.[1]?.split(" ") ?? [];
  if (parts.length !== 6 || parts[5] !== "*") throw new Error(`not a cron(): ${expression}`);
  const [mi = "", h = "", dom = "", mon = "", dow = ""] = parts;
  const days = field(dom, 1, 31);
  const weekdays = field(dow, 1, 7, DAYS);
  if ((days === "?") === (weekdays === "?"))
    throw new Error(`one day field must be ?: ${expression}`);
  const all = (f: Set<number> | "?") => {
    if (f === "?") throw new Error(`? outside the day fields: ${expression}`);
    return f;
  };
  return {
    minutes: all(field(mi, 0, 59)),
    hours: all(field(h, 0, 23)),
    days,
    months: all(field(mon, 1, 12, MONTHS)),
    weekdays,
  };
}

/** Wall-clock time at an instant, as `sv-SE` writes it: `2026-03-08 02:30:00`. */
function local(timeZone: string, ms: number): string {
  return new Date(ms).toLocaleString("sv-SE", { timeZone, hourCycle: "h23" });
}

/** The instants that read `wall` (ms, as if UTC) in the zone: tried with nearby offsets. */
function instants(timeZone: string, wall: number): number[] {
  const text = new Date(wall).toISOString().slice(0, 19).replace("T", " ");
  const offsets = new Set<number>();
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) {
    const seen = Date.parse(`${local(timeZone, probe).replace(" ", "T")}Z`);
    offsets.add(seen - Math.floor(probe / 1000) * 1000);
  }
  return [...offsets]
    .map((o) => wall - o)
    .filter((t) => local(timeZone, t) === text)
    .sort((a, b) => a - b);
}

export interface Window {
  readonly start?: Date;
  readonly end?: Date;
  /** Whether StartDate/EndDate themselves may fire (AWS does not say): both must agree. */
  readonly inclusive: boolean;
}

/** The next `n` fire times after `after` of one Scheduler schedule. */
export function schedulerRuns(
  expression: string,
  timeZone: string,
  after: Date,
  n: number,
  window: Window = { inclusive: true },
): number[] {
  const c = parseSchedulerCron(expression);
  const out: number[] = [];
  const start = window.start?.getTime() ?? Number.NEGATIVE_INFINITY;
  const end = window.end?.getTime() ?? Number.POSITIVE_INFINITY;
  const inWindow = (t: number) =>
    window.inclusive ? t >= start && t <= end : t > start && t < end;
  const first = Math.max(after.getTime(), Number.isFinite(start) ? start : after.getTime());
  let day = Math.floor(first / 86_400_000) * 86_400_000 - 86_400_000;
  const afterWall = Date.parse(`${local(timeZone, after.getTime()).replace(" ", "T")}Z`);
  for (let i = 0; i < 400 * 366 && out.length < n; i++, day += 86_400_000) {
    const d = new Date(day);
    if (!c.months.has(d.getUTCMonth() + 1)) continue;
    if (c.days !== "?" && !c.days.has(d.getUTCDate())) continue;
    if (c.weekdays !== "?" && !c.weekdays.has(d.getUTCDay() + 1)) continue;
    for (const h of [...c.hours].sort((a, b) => a - b)) {
      for (const m of [...c.minutes].sort((a, b) => a - b)) {
        const wall = day + h * 3_600_000 + m * 60_000;
        // A DST change moves clocks by at most 2 hours: earlier wall-clock times are past.
        if (wall < afterWall - 3 * 3_600_000) continue;
        const [t] = instants(timeZone, wall);
        if (t === undefined || t <= after.getTime()) continue;
        if (t > end) return out;
        if (inWindow(t)) out.push(t);
        if (out.length >= n) return out;
      }
    }
  }
  return out;
}
