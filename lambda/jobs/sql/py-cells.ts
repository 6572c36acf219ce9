/**
 * PostgreSQL's text output of a result column turned into the value lava's
 * driver, pg8000 1.31, hands Python (pg8000/converters.py PG_TYPES: pg8000 asks
 * for text format and converts by the column's type OID), so the writers print
 * what lava prints. Types pg8000 has no converter for (timetz, cidr, xml, bit,
 * macaddr[], timetz[], oid[], enums, composites, arrays of domains…) stay
 * text, as in pg8000's `defaultdict(lambda: string_in)`; a domain column is
 * described by its base type, so it converts as that.
 *
 * What the executor assumes of the session, PostgreSQL's defaults, which
 * neither pg8000 nor node-postgres changes: DateStyle ISO, IntervalStyle
 * postgres, bytea_output hex, extra_float_digits 1, client_encoding UTF8.
 * TimeZone is left as the session has it: a timestamptz carries the offset its
 * text carries, as in pg8000 (`+11` and `+05:30` kept, not turned into UTC).
 *
 * Where pg8000 itself raises (lava's job fails: `24:00:00` times, intervals past
 * timedelta's 999999999 days, arrays with bounds like `[0:1]={1,2}`, bytea in
 * escape format, postgres_verbose intervals with fractional seconds), the text
 * is kept instead. Where pg8000 returns the text (infinite and out-of-range
 * dates and timestamps, BC dates and timestamptz), so does this.
 */

import { ipCell, jsonLoads, pyFloat, pyInt } from "./py-parse";
import { dateIn, intervalIn, timeIn, timestampIn, timestamptzIn } from "./py-temporal";
import { decimalStr, isNumeric, NONE, type PyCell, pyStr } from "./py-values";

export type { PyCell } from "./py-values";
export { isNumeric, pyRepr, pyStr } from "./py-values";

type Adapter = (text: string) => PyCell;

const str: Adapter = (v) => ({ t: "str", v });

function bytesIn(text: string): PyCell {
  const hex = text.slice(2);
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error("non-hexadecimal number found in fromhex()");
  return { t: "bytes", v: hex.toLowerCase() };
}

/** pg8000's _parse_array, state machine and all. */
function arrayIn(adapter: Adapter): Adapter {
  return (data) => {
    const root: PyCell[] = [];
    const stack: PyCell[][] = [root];
    const top = () => {
      const a = stack[stack.length - 1];
      if (!a) throw new Error("IndexError: list index out of range");
      return a;
    };
    let state: "out" | "string" | "escape" | "value" = "out";
    let val = "";
    for (const c of data) {
      if (state === "value") {
        if (c === "}" || c === ",") {
          top().push(val === "NULL" ? NONE : adapter(val));
          state = "out";
        } else val += c;
      }
      if (state === "out") {
        if (c === "{") {
          const a: PyCell[] = [];
          top().push({ t: "list", v: a });
          stack.push(a);
        } else if (c === "}") stack.pop();
        else if (c === '"') [val, state] = ["", "string"];
        else if (c !== ",") [val, state] = [c, "value"];
      } else if (state === "string") {
        if (c === '"') {
          top().push(adapter(val));
          state = "out";
        } else if (c === "\\") state = "escape";
        else val += c;
      } else if (state === "escape") [val, state] = [val + c, "string"];
    }
    const first = root[0];
    if (!first) throw new Error("IndexError: list index out of range");
    return first;
  };
}

/** _range_in: `empty`, or the two bounds split at the comma. */
function rangeIn(adapter: Adapter): Adapter {
  return (data) => {
    if (data === "empty") return { t: "range", v: null };
    const bounds = data.slice(1, -1).split(",");
    if (bounds.length !== 2) throw new Error("ValueError: too many values to unpack");
    const [lo, hi] = bounds.map((b) => (b === "" ? NONE : adapter(b)));
    return { t: "range", v: [lo ?? NONE, hi ?? NONE, `${data[0] ?? ""}${data.at(-1) ?? ""}`] };
  };
}

/** _multirange_in: each `[...)` inside the braces, a list of Ranges. */
function multirangeIn(range: Adapter): Adapter {
  return (data) => {
    const out: PyCell[] = [];
    let val: string | null = null;
    for (const c of data) {
      if (val !== null) {
        val += c;
        if ("])".includes(c)) {
          out.push(range(val));
          val = null;
        }
      } else if ("[(".includes(c)) val = c;
    }
    return { t: "list", v: out };
  };
}

/** record_in: a tuple of the fields' texts (it skips empty ones and splits at `""`). */
function recordIn(data: string): PyCell {
  const out: PyCell[] = [];
  let state: "out" | "string" | "escape" | "value" = "out";
  let val = "";
  for (const c of data) {
    if (state === "value") {
      if (c === ")" || c === ",") {
        out.push(val === "" ? NONE : str(val));
        [val, state] = ["", "out"];
      } else val += c;
    }
    if (state === "out") {
      if (c === '"') state = "string";
      else if (!"(),".includes(c)) [val, state] = [val + c, "value"];
    } else if (state === "string") {
      if (c === '"') {
        out.push(str(val));
        [val, state] = ["", "out"];
      } else if (c === "\\") state = "escape";
      else val += c;
    } else if (state === "escape") [val, state] = [val + c, "string"];
  }
  return { t: "tuple", v: out };
}

const decimal: Adapter = (v) => {
  decimalStr(v); // Decimal() raises on what it cannot read
  return { t: "decimal", v };
};
const ts: Adapter = (v) => timestampIn(v.slice(1, -1));
const tstz: Adapter = (v) => timestamptzIn(v.slice(1, -1));
const ranges: [number, number, number, number, Adapter][] = [
  // range, range[], multirange, multirange[], element
  [3904, 3905, 4451, 6150, pyInt],
  [3926, 3927, 4536, 6157, pyInt],
  [3906, 3907, 4532, 6151, decimal],
  [3912, 3913, 4535, 6155, dateIn],
  [3908, 3909, 4533, 6152, ts],
  [3910, 3911, 4534, 6153, tstz],
];

/** pg8000's PG_TYPES: scalar OIDs and their array OIDs (0: pg8000 has no array converter). */
const SCALARS: [number[], number[], Adapter][] = [
  [[20, 21, 23], [1016, 1005, 1007], pyInt],
  [[26, 28], [], pyInt],
  [[16], [1000], (v) => ({ t: "bool", v: v === "t" })],
  [[17], [1001], bytesIn],
  [[1042, 2275, 25, 1043, 19, 705, 829, 790], [1014, 1263, 1009, 1015, 1003, 791], str],
  [[1082], [1182], dateIn],
  [[700, 701], [1021, 1022], pyFloat],
  [[869], [1041, 651], ipCell],
  [[114, 3802], [199, 3807], jsonLoads],
  [[1700], [1231], decimal],
  [[1186], [1187], intervalIn],
  [[1083], [1183], timeIn],
  [[1114], [1115], timestampIn],
  [[1184], [1185], timestamptzIn],
  [[2950], [2951], (v) => ({ t: "uuid", v: v.toLowerCase() })],
  [[600], [], (v) => ({ t: "tuple", v: v.slice(1, -1).split(",").map(pyFloat) })],
  [[2249], [], recordIn],
  [[22], [], (v) => ({ t: "list", v: v.split(/\s+/).filter(Boolean).map(pyInt) })],
];

const ADAPTERS = new Map<number, Adapter>();
for (const [scalars, arrays, adapter] of SCALARS) {
  for (const oid of scalars) ADAPTERS.set(oid, adapter);
  for (const oid of arrays) ADAPTERS.set(oid, arrayIn(adapter));
}
for (const [range, rangeArray, multi, multiArray, element] of ranges) {
  const r = rangeIn(element);
  ADAPTERS.set(range, r).set(rangeArray, arrayIn(r));
  ADAPTERS.set(multi, multirangeIn(r)).set(multiArray, arrayIn(multirangeIn(r)));
}

/**
 * The value pg8000 gives Python for a column of type `typeOid` whose text
 * output is `text` (null: SQL NULL, Python None).
 */
export function cellFromPg(text: string | null, typeOid: number): PyCell {
  if (text === null) return NONE;
  const adapter = ADAPTERS.get(typeOid);
  if (!adapter) return str(text);
  try {
    return adapter(text);
  } catch {
    return str(text); // pg8000 raises here; the text is the most faithful thing to write
  }
}

/** A column's values as csv.writer sees them: Python's `str()` (None: empty) and whether it is a number. */
export interface ColumnText {
  str(text: string | null): string;
  numeric(text: string | null): boolean;
}

const same = (text: string | null) => text ?? "";
const notNull = (text: string | null) => text !== null;
const never = () => false;

/** The general way, through the cell. */
function viaCell(typeOid: number): ColumnText {
  return {
    str: (text) => (text === null ? "" : pyStr(cellFromPg(text, typeOid))),
    numeric: (text) => text !== null && isNumeric(cellFromPg(text, typeOid)),
  };
}

/** Where PostgreSQL's text is already Python's str() (checked per value), else the cell's. */
function whenMatches(typeOid: number, canonical: RegExp, numeric: boolean): ColumnText {
  const general = viaCell(typeOid);
  return {
    str: (text) => (text !== null && canonical.test(text) ? text : general.str(text)),
    numeric: numeric ? notNull : general.numeric,
  };
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(\d{1,6}))?([+-]\d\d)?(?::(\d\d))?$/;

/** timestamp/timestamptz: PostgreSQL's ISO text to Python's str(datetime) without a cell. */
function timestamps(typeOid: number, aware: boolean): ColumnText {
  const general = viaCell(typeOid);
  return {
    str: (text) => {
      const m = text === null ? null : TIMESTAMP.exec(text);
      if (!m || (m[3] !== undefined) !== aware || m[1]?.startsWith("0000"))
        return general.str(text);
      const fraction = m[2] ? `.${m[2].padEnd(6, "0")}` : "";
      return `${m[1]}${fraction}${aware ? `${m[3]}:${m[4] ?? "00"}` : ""}`;
    },
    numeric: never,
  };
}

const INT_OIDS = [20, 21, 23, 26, 28];
const TEXT_OIDS = [25, 1043, 1042, 19, 705];

/**
 * The converter of a column of type `typeOid`: fast paths for the common types,
 * each the same as `pyStr(cellFromPg(…))` (the differential test holds them to it).
 */
export function columnText(typeOid: number): ColumnText {
  if (INT_OIDS.includes(typeOid)) return { str: same, numeric: notNull };
  if (TEXT_OIDS.includes(typeOid)) return { str: same, numeric: never };
  switch (typeOid) {
    case 16:
      return { str: (t) => (t === null ? "" : t === "t" ? "True" : "False"), numeric: notNull };
    case 1082:
      return whenMatches(typeOid, /^\d{4}-\d\d-\d\d$/, false);
    case 1700:
      return whenMatches(typeOid, /^-?[1-9]\d*(?:\.\d+)?$/, true);
    case 2950:
      return whenMatches(
        typeOid,
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        true,
      );
    case 1114:
      return timestamps(typeOid, false);
    case 1184:
      return timestamps(typeOid, true);
    default:
      return viaCell(typeOid);
  }
}
