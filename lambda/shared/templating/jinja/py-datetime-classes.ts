/**
 * The classes of `datetime` as callables with their class methods
 * (`utils.datetime(2026, 1, 31)`, `utils.datetime.now()`, `start.fromtimestamp(…)`),
 * one set per {@link DtEnv}.
 */
import { typeError, valueError } from "./errors";
import {
  type DtEnv,
  dateOf,
  fn,
  fromInstant,
  int,
  makeDate,
  makeDateTime,
  makeTime,
  PyDate,
  PyDateTime,
  PyTime,
  tzArg,
} from "./py-datetime";
import { roundHalfEven, TIMEDELTA_CLASS } from "./py-timedelta";
import { FixedTz, US_PER_DAY, UTC, type ZoneTz } from "./py-tz";
import { strptime } from "./strptime";
import { asStr, bind, type Kwargs, numeric, PyFunction, type PyValue, typeName } from "./values";

function timestampUs(v: PyValue | undefined): number {
  const n = numeric(v ?? null);
  if (n === undefined)
    throw typeError(`'${typeName(v ?? null)}' object cannot be interpreted as an integer`);
  return roundHalfEven(n * 1e6);
}

class PyClass extends PyFunction {
  override readonly typeName = "type";
  constructor(
    private readonly qualname: string,
    f: (a: PyValue[], kw: Kwargs) => PyValue,
    attrs: Record<string, PyValue>,
  ) {
    super(qualname.split(".").at(-1) ?? qualname, f, attrs);
  }
  override repr(): string {
    return `<class '${this.qualname}'>`;
  }
  override str(): string {
    return this.repr();
  }
}

/** The classes of one {@link DtEnv}. */
export interface DtClasses {
  readonly date: PyFunction;
  readonly time: PyFunction;
  readonly datetime: PyFunction;
  readonly timedelta: PyFunction;
}

const CLASSES = new WeakMap<DtEnv, DtClasses>();

/** A datetime environment: the local zone and clock, and the classes its instances reach. */
export function makeDtEnv(local: ZoneTz, nowUs: () => number): DtEnv {
  const env: DtEnv = {
    local,
    nowUs,
    classAttr: (cls, name) => classesOf(env)[cls].getAttr(name),
  };
  return env;
}

/** The `date`, `time`, `datetime` and `timedelta` classes for an env (made once). */
export function classesOf(env: DtEnv): DtClasses {
  const hit = CLASSES.get(env);
  if (hit) return hit;
  const nowNaive = () => fromInstant(env, env.nowUs(), null);
  const dtOrder = ["year", "month", "day", "hour", "minute", "second", "microsecond", "tzinfo"];
  const date = new PyClass(
    "datetime.date",
    (a, kw) => {
      const b = bind("date", ["year", "month", "day"], a, kw);
      return makeDate(env, int(b.year, "year"), int(b.month, "month"), int(b.day, "day"));
    },
    {
      today: fn("today", () => new PyDate(env, nowNaive().days)),
      fromtimestamp: fn(
        "fromtimestamp",
        (a) => new PyDate(env, fromInstant(env, timestampUs(a[0]), null).days),
      ),
      fromordinal: fn("fromordinal", (a) => dateOf(env, int(a[0], "ordinal") - 719163)),
      fromisoformat: fn("fromisoformat", (a) => {
        const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(
          asStr(a[0] ?? null, "fromisoformat: argument"),
        );
        if (!m) throw valueError(`Invalid isoformat string: '${String(a[0])}'`);
        return makeDate(env, Number(m[1]), Number(m[2]), Number(m[3]));
      }),
    },
  );
  const time = new PyClass(
    "datetime.time",
    (a, kw) => {
      const b = bind("time", ["hour", "minute", "second", "microsecond", "tzinfo"], a, kw, {
        hour: 0n,
        minute: 0n,
        second: 0n,
        microsecond: 0n,
        tzinfo: null,
      });
      return makeTime(env, [b.hour, b.minute, b.second, b.microsecond], b.tzinfo);
    },
    {},
  );
  const datetime = new PyClass(
    "datetime.datetime",
    (a, kw) =>
      makeDateTime(
        env,
        bind("datetime", dtOrder, a, kw, {
          hour: 0n,
          minute: 0n,
          second: 0n,
          microsecond: 0n,
          tzinfo: null,
        }),
      ),
    {
      now: fn("now", (a, kw) => {
        const tz = tzArg(bind("now", ["tz"], a, kw, { tz: null }).tz);
        return fromInstant(env, env.nowUs(), tz);
      }),
      utcnow: fn("utcnow", () => new PyDateTime(env, env.nowUs(), null)),
      today: fn("today", () => nowNaive()),
      fromtimestamp: fn("fromtimestamp", (a, kw) => {
        const b = bind("fromtimestamp", ["timestamp", "tz"], a, kw, { tz: null });
        return fromInstant(env, timestampUs(b.timestamp), tzArg(b.tz));
      }),
      utcfromtimestamp: fn("utcfromtimestamp", (a) => new PyDateTime(env, timestampUs(a[0]), null)),
      fromordinal: fn(
        "fromordinal",
        (a) => new PyDateTime(env, (int(a[0], "ordinal") - 719163) * US_PER_DAY, null),
      ),
      combine: fn("combine", (a, kw) => {
        const b = bind("combine", ["date", "time", "tzinfo"], a, kw, {
          tzinfo: undefined as unknown as PyValue,
        });
        const d = b.date;
        const t = b.time;
        if (!(d instanceof PyDate) || !(t instanceof PyTime))
          throw typeError("combine() argument must be date and time");
        const tz = b.tzinfo === undefined ? t.tz : tzArg(b.tzinfo);
        return new PyDateTime(env, d.days * US_PER_DAY + t.us, tz);
      }),
      fromisoformat: fn("fromisoformat", (a) =>
        fromIsoFormat(env, asStr(a[0] ?? null, "fromisoformat: argument")),
      ),
      strptime: fn("strptime", (a, kw) => {
        const b = bind("strptime", ["date_string", "format"], a, kw);
        const r = strptime(
          asStr(b.date_string ?? null, "strptime() argument 1"),
          asStr(b.format ?? null, "strptime() argument 2"),
        );
        const dt = makeDateTime(env, {
          year: BigInt(r.year),
          month: BigInt(r.month),
          day: BigInt(r.day),
          hour: BigInt(r.hour),
          minute: BigInt(r.minute),
          second: BigInt(r.second),
          microsecond: BigInt(r.us),
          tzinfo:
            r.offset === undefined
              ? null
              : r.offset === 0 && r.zone === "UTC"
                ? UTC
                : new FixedTz(r.offset, "timezone", r.zone),
        });
        return dt;
      }),
    },
  );
  const classes: DtClasses = { date, time, datetime, timedelta: TIMEDELTA_CLASS };
  CLASSES.set(env, classes);
  return classes;
}

/** Python 3.11's `datetime.fromisoformat` for the common forms. */
export function fromIsoFormat(env: DtEnv, s: string): PyDateTime {
  const m =
    /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6})\d*)?)?)?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/.exec(
      s,
    );
  if (!m) throw valueError(`Invalid isoformat string: '${s}'`);
  const tz = m[8] === undefined ? null : m[8] === "Z" ? UTC : new FixedTz(offsetSeconds(m[8]));
  return makeDateTime(env, {
    year: BigInt(m[1] ?? 0),
    month: BigInt(m[2] ?? 0),
    day: BigInt(m[3] ?? 0),
    hour: BigInt(m[4] ?? 0),
    minute: BigInt(m[5] ?? 0),
    second: BigInt(m[6] ?? 0),
    microsecond: BigInt((m[7] ?? "").padEnd(6, "0") || 0),
    tzinfo: tz,
  });
}

/** `+hh[:mm[:ss]]` as seconds. */
export function offsetSeconds(text: string): number {
  const d = text.replace(/:/g, "");
  const sign = d.startsWith("-") ? -1 : 1;
  const n = (i: number) => Number(d.slice(i, i + 2) || 0);
  return sign * (n(1) * 3600 + n(3) * 60 + n(5));
}
