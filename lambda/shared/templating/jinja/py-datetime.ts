/**
 * Python's `datetime.date`, `datetime.time` and `datetime.datetime` over a
 * wall-clock count of microseconds, with the classes as callables
 * (`utils.datetime(year=2026, month=1, day=1)`) and their class methods
 * (`start.fromtimestamp(…)`, `utils.datetime.now()`).
 */
import { strftime } from "../strftime";
import { formatOffset, pad, type TimeFields } from "../time-fields";
import { PyError, typeError, valueError } from "./errors";
import { makeTimeDelta, PyTimeDelta } from "./py-timedelta";
import {
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  FixedTz,
  PyTzInfo,
  US_PER_DAY,
  ZoneTz,
} from "./py-tz";
import {
  asStr,
  bind,
  intOf,
  type Kwargs,
  PyFunction,
  PyObject,
  PyTuple,
  type PyValue,
  typeName,
} from "./values";

/** The process-level facts a template's datetimes depend on: local zone and clock. */
export interface DtEnv {
  readonly local: ZoneTz;
  /** Now, in µs since the epoch. */
  readonly nowUs: () => number;
  /** A class attribute reached through an instance (`start.fromtimestamp`, `d.today`). */
  readonly classAttr: (cls: "date" | "datetime", name: string) => PyValue | undefined;
}

export const int = (v: PyValue | undefined, what: string): number => {
  const i = intOf(v ?? null);
  if (i === undefined) {
    if (typeof v === "number")
      throw typeError("'float' object cannot be interpreted as an integer");
    throw typeError(`${what}: an integer is required (got type ${typeName(v ?? null)})`);
  }
  return Number(i);
};

export function checkDate(y: number, m: number, d: number): void {
  if (y < 1 || y > 9999) throw valueError(`year ${y} is out of range`);
  if (m < 1 || m > 12) throw valueError("month must be in 1..12");
  if (d < 1 || d > daysInMonth(y, m)) throw valueError("day is out of range for month");
}

function checkTime(h: number, mi: number, s: number, us: number): void {
  if (h < 0 || h > 23) throw valueError("hour must be in 0..23");
  if (mi < 0 || mi > 59) throw valueError("minute must be in 0..59");
  if (s < 0 || s > 59) throw valueError("second must be in 0..59");
  if (us < 0 || us > 999999) throw valueError("microsecond must be in 0..999999");
}

export function tzArg(v: PyValue | undefined): PyTzInfo | null {
  if (v === undefined || v === null) return null;
  if (v instanceof PyTzInfo) return v;
  throw typeError(
    `tzinfo argument must be None or of a tzinfo subclass, not type '${typeName(v)}'`,
  );
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

function fields(naiveUs: number, offset: number | undefined, zone: string | undefined): TimeFields {
  const days = Math.floor(naiveUs / US_PER_DAY);
  const [year, month, day] = civilFromDays(days);
  const rest = naiveUs - days * US_PER_DAY;
  const secs = Math.floor(rest / 1e6);
  return {
    year,
    month,
    day,
    hour: Math.floor(secs / 3600),
    minute: Math.floor((secs % 3600) / 60),
    second: secs % 60,
    us: rest - secs * 1e6,
    wday: (((days + 4) % 7) + 7) % 7,
    yday: days - daysFromCivil(year, 1, 1),
    offsetSeconds: offset,
    zoneName: zone,
  };
}

function isoCalendar(days: number): [number, number, number] {
  const wd = ((((days + 3) % 7) + 7) % 7) + 1; // Monday = 1
  const thursday = days + 4 - wd;
  const [y] = civilFromDays(thursday);
  const week = Math.floor((thursday - daysFromCivil(y, 1, 1)) / 7) + 1;
  return [y, week, wd];
}

export const fn = (name: string, f: (a: PyValue[], kw: Kwargs) => PyValue) =>
  new PyFunction(name, f);

/** `datetime.date`. */
export class PyDate extends PyObject {
  readonly typeName: string = "datetime.date";
  constructor(
    readonly env: DtEnv,
    readonly days: number,
  ) {
    super();
  }
  get f(): TimeFields {
    return fields(this.days * US_PER_DAY, undefined, undefined);
  }
  override getAttr(name: string): PyValue | undefined {
    const f = this.f;
    const date = dateFields(f);
    if (Object.hasOwn(date, name)) return date[name as keyof typeof date];
    switch (name) {
      case "weekday":
        return fn(name, () => BigInt((f.wday + 6) % 7));
      case "isoweekday":
        return fn(name, () => BigInt(f.wday === 0 ? 7 : f.wday));
      case "isocalendar":
        return fn(name, () => {
          const [y, w, d] = isoCalendar(this.days);
          return new PyTuple([BigInt(y), BigInt(w), BigInt(d)], {
            type: "datetime.IsoCalendarDate",
            fields: ["year", "week", "weekday"],
          });
        });
      case "toordinal":
        return fn(name, () => BigInt(this.days + 719163));
      case "isoformat":
        return fn(name, () => this.str());
      case "strftime":
        return fn(name, (a, kw) =>
          strftime(
            f,
            asStr(bind("strftime", ["format"], a, kw).format ?? null, "strftime() argument 1"),
          ),
        );
      case "__format__":
        return fn(name, (a) =>
          a[0] === "" ? this.str() : strftime(f, asStr(a[0] ?? null, "format")),
        );
      case "ctime":
        return fn(name, () => ctime(f));
      case "replace":
        return fn(name, (a, kw) => {
          const b = bind("replace", Object.keys(date), a, kw, date);
          return makeDate(this.env, int(b.year, "year"), int(b.month, "month"), int(b.day, "day"));
        });
      default:
        return this.env.classAttr("date", name);
    }
  }
  override str(): string {
    const f = this.f;
    return `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}`;
  }
  override repr(): string {
    const f = this.f;
    return `datetime.date(${f.year}, ${f.month}, ${f.day})`;
  }
  override equals(other: PyValue): boolean {
    return other instanceof PyDate && !(other instanceof PyDateTime) && other.days === this.days;
  }
  override compare(other: PyValue): number | undefined {
    if (other instanceof PyDateTime)
      throw typeError("can't compare datetime.datetime to datetime.date");
    return other instanceof PyDate ? Math.sign(this.days - other.days) : undefined;
  }
  override hashKey(): string {
    return `d:${this.days}`;
  }
  override binop(op: string, other: PyValue, reflected: boolean): PyValue | undefined {
    if (other instanceof PyTimeDelta && (op === "+" || (op === "-" && !reflected))) {
      return dateOf(this.env, op === "+" ? this.days + other.days : this.days - other.days);
    }
    if (op === "-" && other instanceof PyDate && !(other instanceof PyDateTime)) {
      const diff = reflected ? other.days - this.days : this.days - other.days;
      return new PyTimeDelta(diff * US_PER_DAY);
    }
    return undefined;
  }
}

function ctime(f: TimeFields): string {
  return `${DAYS[(f.wday + 6) % 7]} ${MONTHS[f.month - 1]} ${pad(f.day, 2, " ")} ${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)} ${pad(f.year, 4)}`;
}

export function dateOf(env: DtEnv, days: number): PyDate {
  const [y] = civilFromDays(days);
  if (y < 1 || y > 9999) throw new PyError("OverflowError", "date value out of range");
  return new PyDate(env, days);
}

export function makeDate(env: DtEnv, y: number, m: number, d: number): PyDate {
  checkDate(y, m, d);
  return new PyDate(env, daysFromCivil(y, m, d));
}

function timeText(us: number, spec: string): string {
  const secs = Math.floor(us / 1e6);
  const frac = us - secs * 1e6;
  const hh = pad(Math.floor(secs / 3600), 2);
  const mm = pad(Math.floor((secs % 3600) / 60), 2);
  const ss = pad(secs % 60, 2);
  switch (spec) {
    case "hours":
      return hh;
    case "minutes":
      return `${hh}:${mm}`;
    case "seconds":
      return `${hh}:${mm}:${ss}`;
    case "milliseconds":
      return `${hh}:${mm}:${ss}.${pad(Math.floor(frac / 1000), 3)}`;
    case "microseconds":
      return `${hh}:${mm}:${ss}.${pad(frac, 6)}`;
    case "auto":
      return frac ? `${hh}:${mm}:${ss}.${pad(frac, 6)}` : `${hh}:${mm}:${ss}`;
    default:
      throw valueError("Unknown timespec value");
  }
}

/** `datetime.time`. */
export class PyTime extends PyObject {
  readonly typeName = "datetime.time";
  constructor(
    readonly env: DtEnv,
    readonly us: number,
    readonly tz: PyTzInfo | null,
  ) {
    super();
  }
  private offset(): number | undefined {
    return this.tz ? this.tz.offsetAt(this.us) : undefined;
  }
  override getAttr(name: string): PyValue | undefined {
    const f = fields(
      this.us - 25567 * US_PER_DAY,
      this.offset(),
      this.tz?.nameAt(this.us) ?? undefined,
    );
    const clock = clockFields(f, this.tz);
    if (Object.hasOwn(clock, name)) return clock[name as keyof typeof clock];
    switch (name) {
      case "isoformat":
        return fn(name, (a, kw) =>
          this.iso(str(bind("isoformat", ["timespec"], a, kw, { timespec: "auto" }).timespec)),
        );
      case "strftime":
        return fn(name, (a) => strftime(f, asStr(a[0] ?? null, "strftime() argument 1")));
      case "utcoffset":
        return fn(name, () => (this.tz ? new PyTimeDelta((this.offset() ?? 0) * 1e6) : null));
      case "tzname":
        return fn(name, () => this.tz?.nameAt(this.us) ?? null);
      case "replace":
        return fn(name, (a, kw) => {
          const b = bind("replace", Object.keys(clock), a, kw, clock);
          return makeTime(this.env, [b.hour, b.minute, b.second, b.microsecond], b.tzinfo);
        });
      default:
        return undefined;
    }
  }
  private iso(spec: string): string {
    const off = this.offset();
    return timeText(this.us, spec) + (off === undefined ? "" : formatOffset(off, true));
  }
  override str(): string {
    return this.iso("auto");
  }
  override repr(): string {
    const f = fields(this.us, undefined, undefined);
    const parts = [f.hour, f.minute, f.second, f.us];
    if (parts[3] === 0) parts.pop();
    if (parts.length === 3 && parts[2] === 0) parts.pop();
    const tz = this.tz ? `, tzinfo=${this.tz.repr()}` : "";
    return `datetime.time(${parts.join(", ")}${tz})`;
  }
  override equals(other: PyValue): boolean {
    return (
      other instanceof PyTime && other.us === this.us && (other.tz === null) === (this.tz === null)
    );
  }
  override compare(other: PyValue): number | undefined {
    return other instanceof PyTime ? Math.sign(this.us - other.us) : undefined;
  }
}

/** The calendar fields of a date or a datetime: its attributes and its `replace()` defaults. */
function dateFields(f: TimeFields) {
  return { year: BigInt(f.year), month: BigInt(f.month), day: BigInt(f.day) };
}

/**
 * The time-of-day fields a time and a datetime share, in Python's order: their
 * attributes and their `replace()` defaults.
 */
function clockFields(f: TimeFields, tz: PyTzInfo | null) {
  return {
    hour: BigInt(f.hour),
    minute: BigInt(f.minute),
    second: BigInt(f.second),
    microsecond: BigInt(f.us),
    tzinfo: tz,
  };
}

export function makeTime(
  env: DtEnv,
  parts: (PyValue | undefined)[],
  tz: PyValue | undefined,
): PyTime {
  const [h, mi, s, us] = parts.map((p, i) =>
    int(p ?? 0n, ["hour", "minute", "second", "microsecond"][i] ?? ""),
  );
  checkTime(h ?? 0, mi ?? 0, s ?? 0, us ?? 0);
  return new PyTime(
    env,
    ((h ?? 0) * 3600 + (mi ?? 0) * 60 + (s ?? 0)) * 1e6 + (us ?? 0),
    tzArg(tz),
  );
}

const str = (v: PyValue | undefined): string => asStr(v ?? null, "argument");

/** `datetime.datetime`: wall-clock µs since the epoch and an optional tzinfo. */
export class PyDateTime extends PyDate {
  override readonly typeName = "datetime.datetime";
  constructor(
    env: DtEnv,
    readonly us: number,
    readonly tz: PyTzInfo | null,
  ) {
    super(env, Math.floor(us / US_PER_DAY));
  }
  offset(): number | undefined {
    return this.tz ? this.tz.offsetAt(this.us) : undefined;
  }
  /** The instant, µs since the epoch in UTC (naive: as local time, like `mktime`). */
  utcUs(): number {
    return this.us - (this.offset() ?? this.env.local.offsetAt(this.us)) * 1e6;
  }
  override get f(): TimeFields {
    return fields(
      this.us,
      this.offset(),
      this.tz ? (this.tz.nameAt(this.us) ?? undefined) : undefined,
    );
  }
  override getAttr(name: string): PyValue | undefined {
    const f = this.f;
    const clock = clockFields(f, this.tz);
    if (Object.hasOwn(clock, name)) return clock[name as keyof typeof clock];
    switch (name) {
      case "fold":
        return 0n;
      case "date":
        return fn(name, () => new PyDate(this.env, this.days));
      case "time":
        return fn(name, () => new PyTime(this.env, this.us - this.days * US_PER_DAY, null));
      case "timetz":
        return fn(name, () => new PyTime(this.env, this.us - this.days * US_PER_DAY, this.tz));
      case "utcoffset":
        return fn(name, () => (this.tz ? new PyTimeDelta((this.offset() ?? 0) * 1e6) : null));
      case "dst":
        return fn(name, () => {
          const d = this.tz?.dstAt(this.us);
          return d === undefined || d === null ? null : new PyTimeDelta(d * 1e6);
        });
      case "tzname":
        return fn(name, () => (this.tz ? this.tz.nameAt(this.us) : null));
      case "timestamp":
        return fn(name, () => this.utcUs() / 1e6);
      case "isoformat":
        return fn(name, (a, kw) => {
          const b = bind("isoformat", ["sep", "timespec"], a, kw, { sep: "T", timespec: "auto" });
          return this.iso(str(b.sep), str(b.timespec));
        });
      case "ctime":
        return fn(name, () => ctime(f));
      case "astimezone":
        return fn(name, (a, kw) =>
          this.astimezone(tzArg(bind("astimezone", ["tz"], a, kw, { tz: null }).tz)),
        );
      case "replace":
        return fn(name, (a, kw) => {
          const defaults = { ...dateFields(f), ...clock };
          const b = bind("replace", Object.keys(defaults), a, kw, defaults);
          return makeDateTime(this.env, b);
        });
      case "isocalendar":
      case "weekday":
      case "isoweekday":
      case "toordinal":
      case "year":
      case "month":
      case "day":
      case "strftime":
      case "__format__":
        return super.getAttr(name);
      default:
        return this.env.classAttr("datetime", name);
    }
  }
  astimezone(tz: PyTzInfo | null): PyDateTime {
    const utc = this.utcUs();
    if (tz === null) {
      const off = this.env.local.offsetAtInstant(utc);
      const wall = utc + off * 1e6;
      return new PyDateTime(
        this.env,
        wall,
        new FixedTz(off, "timezone", this.env.local.nameAt(wall)),
      );
    }
    return new PyDateTime(this.env, utc + tz.offsetAtInstant(utc) * 1e6, tz);
  }
  iso(sep: string, spec: string): string {
    const off = this.offset();
    const date = PyDate.prototype.str.call(this);
    return `${date}${sep}${timeText(this.us - this.days * US_PER_DAY, spec)}${off === undefined ? "" : formatOffset(off, true)}`;
  }
  override str(): string {
    return this.iso(" ", "auto");
  }
  override repr(): string {
    const f = this.f;
    const parts = [f.year, f.month, f.day, f.hour, f.minute, f.second, f.us];
    if (parts.at(-1) === 0) parts.pop();
    if (parts.at(-1) === 0) parts.pop();
    const tz = this.tz ? `, tzinfo=${this.tz.repr()}` : "";
    return `datetime.datetime(${parts.join(", ")}${tz})`;
  }
  override equals(other: PyValue): boolean {
    if (!(other instanceof PyDateTime)) return false;
    if ((this.tz === null) !== (other.tz === null)) return false;
    return this.tz ? this.utcUs() === other.utcUs() : this.us === other.us;
  }
  override compare(other: PyValue): number | undefined {
    if (!(other instanceof PyDate)) return undefined;
    if (!(other instanceof PyDateTime))
      throw typeError("can't compare datetime.datetime to datetime.date");
    if ((this.tz === null) !== (other.tz === null)) {
      throw typeError("can't compare offset-naive and offset-aware datetimes");
    }
    return this.tz ? Math.sign(this.utcUs() - other.utcUs()) : Math.sign(this.us - other.us);
  }
  override hashKey(): string {
    return `dt:${this.tz ? this.utcUs() : this.us}`;
  }
  override binop(op: string, other: PyValue, reflected: boolean): PyValue | undefined {
    if (other instanceof PyTimeDelta && (op === "+" || (op === "-" && !reflected))) {
      return this.plus(op === "+" ? other.us : -other.us);
    }
    if (op === "-" && other instanceof PyDateTime) {
      if ((this.tz === null) !== (other.tz === null)) {
        throw typeError("can't subtract offset-naive and offset-aware datetimes");
      }
      const a = this.tz ? this.utcUs() : this.us;
      const b = other.tz ? other.utcUs() : other.us;
      return new PyTimeDelta(reflected ? b - a : a - b);
    }
    return undefined;
  }
  plus(us: number): PyDateTime {
    const next = this.us + us;
    const [y] = civilFromDays(Math.floor(next / US_PER_DAY));
    if (y < 1 || y > 9999) throw new PyError("OverflowError", "date value out of range");
    return new PyDateTime(this.env, next, this.tz);
  }
}

/** A datetime from the named fields (`year` … `microsecond`, `tzinfo`), validated like Python. */
export function makeDateTime(env: DtEnv, b: Record<string, PyValue | undefined>): PyDateTime {
  const y = int(b.year, "year");
  const m = int(b.month, "month");
  const d = int(b.day, "day");
  const h = int(b.hour ?? 0n, "hour");
  const mi = int(b.minute ?? 0n, "minute");
  const s = int(b.second ?? 0n, "second");
  const us = int(b.microsecond ?? 0n, "microsecond");
  checkDate(y, m, d);
  checkTime(h, mi, s, us);
  return new PyDateTime(
    env,
    daysFromCivil(y, m, d) * US_PER_DAY + ((h * 60 + mi) * 60 + s) * 1e6 + us,
    tzArg(b.tzinfo),
  );
}

/** A datetime for an instant (µs since the epoch): local naive without `tz`, else in `tz`. */
export function fromInstant(env: DtEnv, utcUs: number, tz: PyTzInfo | null): PyDateTime {
  const zone = tz ?? env.local;
  const dt = new PyDateTime(env, utcUs + zone.offsetAtInstant(utcUs) * 1e6, tz);
  return dt;
}

export { makeTimeDelta, ZoneTz };
