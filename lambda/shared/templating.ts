/**
 * Jinja templating for job and trigger specs (SPEC §4, §6).
 *
 * lava renders its templates with Jinja2; we use `@huggingface/jinja`, which
 * understands the Python idioms lava users write (`key.split('/')[-1]`,
 * `w[::-1]`, `lower`, `default`, `replace`, chained filters). Differences from
 * Jinja2 that matter here:
 *
 * - Whitespace: rendered with Jinja2's defaults (`trim_blocks` and
 *   `lstrip_blocks` off, one trailing newline dropped), not the engine's
 *   chat-template defaults.
 * - Globals: `true`/`false`/`none` (and `True`/`False`/`None`), `range`
 *   and `dict`, as in Jinja2. The engine's chat-template extras
 *   (`raise_exception`, `strftime_now`) are not provided.
 * - No HTML auto-escaping (Jinja2's default too).
 *
 * Context values are converted to engine values here rather than by the
 * engine so that datetimes ({@link pyDateTime}) print like Python's
 * `str(datetime)` in `{{ start }}`, `{{ start | string }}` and `~`, and so that
 * JS functions receive plain JS arguments.
 */
import { randomUUID } from "node:crypto";
import { Environment, Interpreter, parse, tokenize } from "@huggingface/jinja";
import { LavaError } from "./errors";

/**
 * A template could not be parsed or rendered. Never retryable: the same
 * template and context fail the same way. The message names what was being
 * rendered and the engine's complaint, never the values in the context.
 */
export class TemplateError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: false });
    this.name = "TemplateError";
  }
}

// ---------------------------------------------------------------------------
// Engine values
// ---------------------------------------------------------------------------

/** The engine's runtime values, structurally (its classes are not exported). */
interface RuntimeValue {
  type: string;
  value: unknown;
  toString(): string;
}

type RuntimeCtor = new (value?: unknown) => RuntimeValue;
type Program = ReturnType<typeof parse>;

/**
 * The engine's value classes, taken from values its own converter makes
 * (the package exports only Environment and Interpreter).
 */
const probe = new Environment();
const ctorOf = (name: string, sample: unknown): RuntimeCtor =>
  probe.set(name, sample).constructor as unknown as RuntimeCtor;
const StringValue = ctorOf("s", "");
const IntegerValue = ctorOf("i", 1);
const FloatValue = ctorOf("f", 1.5);
const BooleanValue = ctorOf("b", true);
const NullValue = ctorOf("n", null);
const UndefinedValue = ctorOf("u", undefined);
const ArrayValue = ctorOf("a", []);
const ObjectValue = ctorOf("o", {}) as unknown as new (
  value: Map<string, RuntimeValue>,
) => RuntimeValue & { get builtins(): ReadonlyMap<string, RuntimeValue> };
const FunctionValue = ctorOf("fn", () => null);

/** A Map whose string form is the datetime's, for the engine's `~` operator. */
class PyDateTimeMap extends Map<string, RuntimeValue> {
  constructor(
    entries: Iterable<[string, RuntimeValue]>,
    private readonly text: string,
  ) {
    super(entries);
  }

  override toString(): string {
    return this.text;
  }
}

/** A {@link PyDateTime} in the engine: attributes and methods, printing like Python. */
class PyDateTimeValue extends ObjectValue {
  constructor(readonly py: PyDateTime) {
    super(
      new PyDateTimeMap(
        Object.entries(py).map(([key, value]): [string, RuntimeValue] => [key, toRuntime(value)]),
        py.toString(),
      ),
    );
  }

  override get builtins(): ReadonlyMap<string, RuntimeValue> {
    const text = this.py.toString();
    return new Map([...super.builtins, ["string", new FunctionValue(() => new StringValue(text))]]);
  }

  override toString(): string {
    return this.py.toString();
  }
}

const PY_DATETIME = Symbol("pyDateTime");

function isPyDateTime(value: object): value is PyDateTime {
  return (value as { [PY_DATETIME]?: unknown })[PY_DATETIME] === true;
}

/** A JS value → an engine value (what the engine's own converter does, plus datetimes). */
function toRuntime(value: unknown): RuntimeValue {
  switch (typeof value) {
    case "string":
      return new StringValue(value);
    case "number":
      return Number.isInteger(value) ? new IntegerValue(value) : new FloatValue(value);
    case "bigint":
      return new IntegerValue(Number(value));
    case "boolean":
      return new BooleanValue(value);
    case "undefined":
    case "symbol":
      return new UndefinedValue();
    case "function": {
      const fn = value as (...args: unknown[]) => unknown;
      return new FunctionValue((args: RuntimeValue[]) => toRuntime(fn(...args.map(fromRuntime))));
    }
    default:
      break;
  }
  if (value === null) return new NullValue();
  if (Array.isArray(value)) return new ArrayValue(value.map(toRuntime));
  if (value instanceof Date) return new PyDateTimeValue(pyDateTime(value, "utc"));
  if (isPyDateTime(value as object)) return new PyDateTimeValue(value as PyDateTime);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
  return new ObjectValue(new Map(entries.map(([k, v]) => [String(k), toRuntime(v)])));
}

/** An engine value (a function argument) → a plain JS value. */
function fromRuntime(value: RuntimeValue): unknown {
  if (value instanceof PyDateTimeValue) return value.py;
  switch (value.type) {
    case "ArrayValue":
    case "TupleValue":
      return (value.value as RuntimeValue[]).map(fromRuntime);
    case "ObjectValue":
    case "KeywordArgumentsValue":
    case "NamespaceValue":
      return Object.fromEntries(
        [...(value.value as Map<string, RuntimeValue>)].map(([k, v]) => [k, fromRuntime(v)]),
      );
    case "NullValue":
      return null;
    case "UndefinedValue":
      return undefined;
    default:
      return value.value;
  }
}

/** Python's `range(stop)` / `range(start, stop[, step])`. */
function pyRange(...args: unknown[]): number[] {
  const nums = args.filter((a): a is number => typeof a === "number");
  if (nums.length !== args.length || nums.length < 1 || nums.length > 3) {
    throw new TypeError("range() expects 1 to 3 integer arguments");
  }
  const [start, stop, step] =
    nums.length === 1 ? [0, nums[0] ?? 0, 1] : [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 1];
  if (step === 0) throw new RangeError("range() arg 3 must not be zero");
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/** Jinja2's `dict(a=1, b=2)`: the engine hands keyword arguments over as one object. */
function pyDict(...args: unknown[]): Record<string, unknown> {
  return Object.assign({}, ...args.filter((a) => a !== null && typeof a === "object"));
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/** Parsed templates by source; the same strings render on every run. */
const CACHE_LIMIT = 500;
const cache = new Map<string, Program>();

function compile(source: string): Program {
  const hit = cache.get(source);
  if (hit !== undefined) {
    // Most recently used last, so the oldest use is evicted first.
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const program = parse(tokenize(source, { lstrip_blocks: false, trim_blocks: false }));
  cache.set(source, program);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return program;
}

/** Whether a string has any Jinja markup at all. */
function isTemplate(source: string): boolean {
  return source.includes("{{") || source.includes("{%") || source.includes("{#");
}

/**
 * Render one Jinja template.
 *
 * Strings without `{{`, `{%` or `{#` come back unchanged (no parsing). Parsed
 * templates are cached (bounded), so rendering the same string again is cheap.
 *
 * @param source the template text
 * @param context the variables (see {@link baseContext})
 * @param what what is being rendered, for error messages, e.g.
 *   `job sales/load: parameters.key`
 * @throws TemplateError naming `what` and the engine's complaint (syntax
 *   error, unknown filter, failed call, …), never context values
 */
export function renderTemplate(
  source: string,
  context: Record<string, unknown>,
  what: string,
): string {
  if (!isTemplate(source)) return source;
  try {
    const program = compile(source);
    const env = new Environment();
    for (const [name, value] of Object.entries({
      true: true,
      false: false,
      none: null,
      True: true,
      False: false,
      None: null,
      range: pyRange,
      dict: pyDict,
    })) {
      env.setVariable(name, toRuntime(value) as never);
    }
    for (const [name, value] of Object.entries(context)) {
      env.setVariable(name, toRuntime(value) as never);
    }
    const result = new Interpreter(env).run(program) as RuntimeValue;
    return String(result.value);
  } catch (err) {
    const message = err instanceof Error ? err.message : "unknown error";
    throw new TemplateError(`${what}: template error: ${message}`, { cause: err });
  }
}

/**
 * Render every string inside a value: nested objects and arrays are copied
 * with their keys unchanged and their strings rendered; other values
 * (numbers, booleans, null) are returned as they are.
 *
 * @param what names the value; errors name the path inside it, e.g.
 *   `job x: parameters.files[0]`
 * @throws TemplateError as {@link renderTemplate}
 */
export function renderDeep(
  value: unknown,
  context: Record<string, unknown>,
  what: string,
): unknown {
  if (typeof value === "string") return renderTemplate(value, context, what);
  if (Array.isArray(value)) {
    return value.map((item, i) => renderDeep(item, context, `${what}[${i}]`));
  }
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = renderDeep(item, context, `${what}.${key}`);
    }
    return out;
  }
  return value;
}

/**
 * Evaluate an `enabled` field (SPEC §4): a boolean as it is; a string is
 * rendered and enables only if the result, trimmed and lower-cased, is `true`.
 *
 * @throws TemplateError as {@link renderTemplate}
 */
export function renderEnabled(
  value: boolean | string,
  context: Record<string, unknown>,
  what: string,
): boolean {
  if (typeof value === "boolean") return value;
  return renderTemplate(value, context, what).trim().toLowerCase() === "true";
}

// ---------------------------------------------------------------------------
// Python-like datetimes
// ---------------------------------------------------------------------------

/**
 * A Python-`datetime`-like view of a Date for templates, in the process's
 * local time zone or in UTC. Aware: `isoformat` and `%z` carry the offset.
 */
export interface PyDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  /** Python `strftime` in the C locale (see {@link pyDateTime}). */
  strftime(format: string): string;
  /** `2026-01-31T08:05:09.123000+00:00`; fraction only when nonzero. */
  isoformat(sep?: string): string;
  /** Seconds since the epoch. */
  timestamp(): number;
  /** Monday = 0 … Sunday = 6. */
  weekday(): number;
  /** Monday = 1 … Sunday = 7. */
  isoweekday(): number;
  /** `isoformat(" ")`, like Python's `str(datetime)`. */
  toString(): string;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

const pad = (n: number, width: number, fill = "0"): string => String(n).padStart(width, fill);

/** Broken-down time, as C's `struct tm` plus what Python adds. */
interface Fields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  wday: number; // Sunday = 0
  yday: number; // 0-based
  offsetMinutes: number; // east of UTC
  zoneName: string;
}

function dayOfYear(year: number, month: number, day: number): number {
  return (Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / 86_400_000;
}

function localZoneName(date: Date, offsetMinutes: number): string {
  const name =
    new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
      .formatToParts(date)
      .find((p) => p.type === "timeZoneName")?.value ?? "";
  // Named zones print their abbreviation (EST, UTC); others print an offset
  // like glibc's numeric abbreviations ("+10", "+0530").
  if (/^[A-Z]{2,5}$/.test(name) && name !== "GMT") return name;
  if (offsetMinutes === 0) return name === "GMT" ? "GMT" : "UTC";
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const mins = abs % 60;
  return `${sign}${pad(Math.floor(abs / 60), 2)}${mins === 0 ? "" : pad(mins, 2)}`;
}

function fieldsOf(date: Date, zone: "local" | "utc"): Fields {
  if (zone === "utc") {
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    const day = date.getUTCDate();
    return {
      year,
      month,
      day,
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
      ms: date.getUTCMilliseconds(),
      wday: date.getUTCDay(),
      yday: dayOfYear(year, month, day),
      offsetMinutes: 0,
      zoneName: "UTC",
    };
  }
  const year = date.getFullYear();
  const month = date.getMonth() + 1;
  const day = date.getDate();
  const offsetMinutes = -date.getTimezoneOffset();
  return {
    year,
    month,
    day,
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
    ms: date.getMilliseconds(),
    wday: date.getDay(),
    yday: dayOfYear(year, month, day),
    offsetMinutes,
    zoneName: localZoneName(date, offsetMinutes),
  };
}

function formatOffset(offsetMinutes: number, colon: boolean): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ":" : ""}${pad(abs % 60, 2)}`;
}

/** ISO 8601 week-numbering year and week (`%G`, `%V`). */
function isoWeek(f: Fields): { year: number; week: number } {
  const isoDay = f.wday === 0 ? 7 : f.wday; // Monday = 1
  // The Thursday of this week decides the year.
  const thursday = new Date(Date.UTC(f.year, f.month - 1, f.day + 4 - isoDay));
  const year = thursday.getUTCFullYear();
  const yday = dayOfYear(year, thursday.getUTCMonth() + 1, thursday.getUTCDate());
  return { year, week: Math.floor(yday / 7) + 1 };
}

/** Numeric directives: their value and padded width (for `%-x`, unpadded). */
function numeric(f: Fields, directive: string): [number, number] | undefined {
  const hour12 = f.hour % 12 === 0 ? 12 : f.hour % 12;
  switch (directive) {
    case "d":
      return [f.day, 2];
    case "m":
      return [f.month, 2];
    case "H":
      return [f.hour, 2];
    case "I":
      return [hour12, 2];
    case "M":
      return [f.minute, 2];
    case "S":
      return [f.second, 2];
    case "j":
      return [f.yday + 1, 3];
    case "y":
      return [f.year % 100, 2];
    case "Y":
      return [f.year, 4];
    case "U":
      return [Math.floor((f.yday + 7 - f.wday) / 7), 2];
    case "W":
      return [Math.floor((f.yday + 7 - ((f.wday + 6) % 7)) / 7), 2];
    case "w":
      return [f.wday, 1];
    case "u":
      return [f.wday === 0 ? 7 : f.wday, 1];
    case "V":
      return [isoWeek(f).week, 2];
    case "G":
      return [isoWeek(f).year, 4];
    case "C":
      return [Math.floor(f.year / 100), 2];
    default:
      return undefined;
  }
}

function strftime(f: Fields, format: string): string {
  const d = (directive: string): string => {
    const n = numeric(f, directive);
    if (n !== undefined) return pad(n[0], n[1]);
    switch (directive) {
      case "a":
        return DAYS[f.wday]?.slice(0, 3) ?? "";
      case "A":
        return DAYS[f.wday] ?? "";
      case "b":
      case "h":
        return MONTHS[f.month - 1]?.slice(0, 3) ?? "";
      case "B":
        return MONTHS[f.month - 1] ?? "";
      case "c":
        return `${d("a")} ${d("b")} ${d("e")} ${d("H")}:${d("M")}:${d("S")} ${d("Y")}`;
      case "x":
      case "D":
        return `${d("m")}/${d("d")}/${d("y")}`;
      case "X":
      case "T":
        return `${d("H")}:${d("M")}:${d("S")}`;
      case "F":
        return `${d("Y")}-${d("m")}-${d("d")}`;
      case "R":
        return `${d("H")}:${d("M")}`;
      case "r":
        return `${d("I")}:${d("M")}:${d("S")} ${d("p")}`;
      case "e":
        return pad(f.day, 2, " ");
      case "k":
        return pad(f.hour, 2, " ");
      case "l":
        return pad(f.hour % 12 === 0 ? 12 : f.hour % 12, 2, " ");
      case "p":
        return f.hour < 12 ? "AM" : "PM";
      case "P":
        return f.hour < 12 ? "am" : "pm";
      case "f":
        return pad(f.ms * 1000, 6);
      case "z":
        return formatOffset(f.offsetMinutes, false);
      case "Z":
        return f.zoneName;
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "%":
        return "%";
      default:
        return `%${directive}`;
    }
  };
  return format.replace(/%(-?)([A-Za-z%])/g, (match, flag: string, directive: string) => {
    if (flag === "") return d(directive);
    const n = numeric(f, directive);
    return n === undefined ? match : String(n[0]);
  });
}

/**
 * A Python-`datetime`-like object for templates: `strftime(fmt)`,
 * `isoformat(sep = "T")`, `timestamp()`, `weekday()`, `isoweekday()`, the
 * attributes `year` … `microsecond`, and `toString()` = `isoformat(" ")`, so
 * `{{ ustart }}` prints like Python's `str(datetime)`.
 *
 * `strftime` follows Python on glibc in the C locale: `%a %A %b %B %c %d %f
 * %H %I %j %m %M %p %S %U %w %W %x %X %y %Y %z %Z %%`, the glibc extras
 * `%C %D %e %F %G %h %k %l %n %P %r %R %t %T %u %V`, and `%-d`-style unpadded
 * numbers; unknown directives are left as they are. `%Z` is `UTC` for "utc";
 * for "local" the zone's abbreviation, or its offset (`+10`) when it has none.
 *
 * @param zone "local": the process time zone (`TZ`); "utc": UTC.
 */
export function pyDateTime(date: Date, zone: "local" | "utc"): PyDateTime {
  const when = new Date(date.getTime());
  const f = fieldsOf(when, zone);
  const isoformat = (sep: unknown = "T"): string => {
    const s =
      typeof sep === "string"
        ? sep
        : typeof (sep as { sep?: unknown } | null)?.sep === "string"
          ? (sep as { sep: string }).sep
          : "T";
    const frac = f.ms === 0 ? "" : `.${pad(f.ms * 1000, 6)}`;
    return `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}${s}${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)}${frac}${formatOffset(f.offsetMinutes, true)}`;
  };
  const weekday = (): number => (f.wday + 6) % 7;
  const py: PyDateTime = {
    year: f.year,
    month: f.month,
    day: f.day,
    hour: f.hour,
    minute: f.minute,
    second: f.second,
    microsecond: f.ms * 1000,
    strftime: (format: unknown): string => {
      if (typeof format !== "string") throw new TypeError("strftime() argument must be a string");
      return strftime(f, format);
    },
    isoformat,
    timestamp: (): number => when.getTime() / 1000,
    weekday,
    isoweekday: (): number => weekday() + 1,
    toString: (): string => isoformat(" "),
  };
  Object.defineProperty(py, PY_DATETIME, { value: true, enumerable: false });
  return py;
}

// ---------------------------------------------------------------------------
// utils
// ---------------------------------------------------------------------------

function str(value: unknown, fn: string): string {
  if (typeof value !== "string") throw new TypeError(`${fn}() argument must be a string`);
  return value;
}

/** Python `posixpath.basename`. */
function basename(path: unknown): string {
  const p = str(path, "basename");
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Python `posixpath.dirname`. */
function dirname(path: unknown): string {
  const p = str(path, "dirname");
  const head = p.slice(0, p.lastIndexOf("/") + 1);
  return head !== "" && !/^\/+$/.test(head) ? head.replace(/\/+$/, "") : head;
}

/** Python `posixpath.splitext`: leading dots of the file name are not an extension. */
function splitext(path: unknown): [string, string] {
  const p = str(path, "splitext");
  const sep = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) {
      if (p[i] !== ".") return [p.slice(0, dot), p.slice(dot)];
    }
  }
  return [p, ""];
}

const ALWAYS_SAFE = /[A-Za-z0-9_.~-]/;

/** Python `urllib.parse.quote(s, safe="/")` (UTF-8). */
function urlquote(value: unknown, safe: unknown = "/"): string {
  const s = str(value, "urlquote");
  const keep = typeof safe === "string" ? safe : "/";
  const encoder = new TextEncoder();
  let out = "";
  for (const ch of s) {
    if (ALWAYS_SAFE.test(ch) || (ch.length === 1 && keep.includes(ch))) {
      out += ch;
    } else {
      for (const byte of encoder.encode(ch)) {
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
    }
  }
  return out;
}

/** Python `urllib.parse.unquote` (UTF-8, bad bytes replaced; `+` stays `+`). */
function urlunquote(value: unknown): string {
  const s = str(value, "urlunquote");
  const decoder = new TextDecoder("utf-8");
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = Number.parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    }
    return decoder.decode(bytes);
  });
}

/**
 * The `utils` template variable: pure helpers for lava-style templates.
 * `basename`, `dirname`, `splitext` (→ `[root, ext]`) with Python
 * `os.path` semantics; `uuid()`; `now()`/`utcnow()` as {@link pyDateTime};
 * `urlquote(s, safe="/")`/`urlunquote(s)` as Python's `urllib.parse`.
 * Nothing reads the environment or files: templates must not reach secrets.
 */
export function templateUtils(): Record<string, unknown> {
  return {
    basename,
    dirname,
    splitext,
    uuid: (): string => randomUUID(),
    now: (): PyDateTime => pyDateTime(new Date(), "local"),
    utcnow: (): PyDateTime => pyDateTime(new Date(), "utc"),
    urlquote,
    urlunquote,
  };
}

/**
 * The variables every job template sees (SPEC §4): `realm`, `job`,
 * `globals`, `vars` (missing ones are `{}`), `start`/`ustart` (the run start
 * as local/UTC {@link pyDateTime}) and `utils`. Callers add type-specific
 * ones (`bucket`, `key`, …).
 */
export function baseContext(options: {
  realm: string;
  job?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  start: Date;
}): Record<string, unknown> {
  return {
    realm: options.realm,
    job: options.job ?? {},
    globals: options.globals ?? {},
    vars: options.vars ?? {},
    start: pyDateTime(options.start, "local"),
    ustart: pyDateTime(options.start, "utc"),
    utils: templateUtils(),
  };
}
