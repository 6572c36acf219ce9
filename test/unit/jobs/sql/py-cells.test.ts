/**
 * cellFromPg gives the value pg8000 gives Python for PostgreSQL's text output:
 * its str(), repr(), type, QUOTE_NONNUMERIC numberness and lava's json.dumps
 * all as Python's, the Python value itself built back from the cell and
 * compared. The expectations come from pg8000's own converters run by real
 * Python (test/support/csv-oracle.py), once for all cases. The texts are
 * PostgreSQL 15's output (DateStyle ISO, IntervalStyle postgres, bytea hex)
 * unless marked.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { jsonlWriter } from "../../../../lambda/jobs/sql/jsonl-writer";
import {
  cellFromPg,
  columnText,
  isNumeric,
  type PyCell,
  pyRepr,
  pyStr,
} from "../../../../lambda/jobs/sql/py-cells";

const PYTHON = "/usr/bin/python3";
const ORACLE = join(__dirname, "../../../support/csv-oracle.py");

/** [type OID, PostgreSQL's text outputs of that type]. */
const TEXTS: [number, (string | null)[]][] = [
  [16, ["t", "f", null]],
  [21, ["-32768"]],
  [23, ["0", "2147483647"]],
  [20, ["-9223372036854775808"]],
  [26, ["42"]],
  [28, ["7"]],
  [701, ["1", "1e+16", "1e+15", "NaN", "Infinity", "-Infinity", "-0", "1.5e-07", "1e-05"]],
  [701, ["0.0001", "1.7976931348623157e+308", "5e-324", "1.2345678901234568e+17", "0.1", "-2.5"]],
  [701, ["3.141592653589793", "2.220446049250313e-16", "9.007199254740992e+15", "100"]],
  [700, ["0.1", "1.2345679e+08", "3.4028235e+38", "-1.5", "1e-45"]],
  [1700, ["1.50", "NaN", "Infinity", "-Infinity", "0.0000001", "0.0000000", "0", "-12.345"]],
  [1700, ["100000000000000000000", "-0.000001", "0.00000001230", "0.000001", "0.00001000"]],
  [1700, ["123456789012345678901234567890.123456789", "-0.0000001", "5"]],
  [25, ["a", "", 'it\'s "q"', "naïve ✓ 😀", "\u00a0nbsp\u200b\u0085", "tab\there\nline\\"]],
  [1043, ["'only single'"]],
  [1042, ["ab  "]],
  [19, ["x"]],
  [705, ["unknown"]],
  [790, ["$12.50"]],
  [829, ["08:00:2b:01:02:03"]],
  [1082, ["2026-01-02", "infinity", "-infinity", "0044-03-15 BC", "10000-01-01", "0001-01-01"]],
  [1082, ["0099-12-31", "0001-01-01 BC"]],
  [1083, ["03:04:05", "03:04:05.123", "24:00:00", "00:00:00", "23:59:59.999999", "00:00:00.5"]],
  [1266, ["03:04:05+11"]],
  [1114, ["2026-01-02 03:04:05.123", "2026-01-02 03:04:05", "infinity", "-infinity"]],
  [1114, ["0044-03-15 10:00:00 BC", "0001-02-29 00:00:00 BC", "0005-02-29 00:00:00 BC"]],
  [1114, ["0044-03-15 10:00:00.5 BC", "10000-01-01 00:00:00", "294276-12-31 23:59:59.999999"]],
  [1114, ["1999-12-31 23:59:59.000001", "2026-01-02 00:00:00", "2026-01-02 00:00:00.000001"]],
  [1114, ["0012-03-15 10:00:00 BC", "0001-01-01 00:00:00 BC", "4713-11-24 00:00:00 BC"]],
  [1184, ["2026-01-02 14:04:05.123+11", "2026-01-02 03:04:05+00", "2026-01-02 08:34:05+05:30"]],
  [1184, ["2026-01-02 03:04:05.5-03:30", "1800-01-01 00:00:00+10:04:52", "2026-07-01 00:00:00-04"]],
  [1184, ["0044-03-15 10:00:00+10:04:52 BC", "0044-03-15 10:00:00+00 BC", "infinity"]],
  [1184, ["10000-01-01 00:00:00+00", "2026-01-02 03:04:05+14", "1800-01-01 00:00:00-00:01:15"]],
  [1184, ["2026-01-02 03:04:05-12", "2026-01-02 03:04:05.000001+00"]],
  [1186, ["1 day 02:03:04", "-00:30:00", "1 year 2 mons 3 days 04:05:06.5", "3 mons", "00:00:00"]],
  [1186, ["-1 days +02:00:00", "100:00:00", "-1 years -2 mons +3 days -04:05:06.25", "1 day"]],
  [1186, ["00:00:01.5", "14 days", "-04:05:06", "-1 days", "2 days 00:00:00.000001"]],
  [1186, ["178000000 years", "-178000000 years", "2147483647 days", "-2147483648 days"]],
  [
    1186,
    ["2147483647 days 2562047788:00:54.775807", "-2562047788:00:54.775807", "1 mon 00:00:00.5"],
  ],
  [1186, ["999999999 days 23:59:59.999999", "-00:00:00.000001"]],
  // IntervalStyle iso_8601 and sql_standard, should a session set them
  [
    1186,
    ["P1Y2M3DT4H5M6.5S", "PT0.5S", "P3D", "P-1DT2H", "+1-2 +3 +4:05:06.5", "-1-2", "3 4:05:06"],
  ],
  [1186, ["+0-0 -1 +2:00:00", "@ 1 year 2 mons 3 days 4 hours 5 mins 6.5 secs"]],
  [1186, ["@ 1 year 2 mons 3 days 4 hours 5 mins 6 secs ago", "@ 1 day 2 hours ago"]],
  [1186, ["@ 30 secs", "@ 1 min 30 secs"]],
  [3802, ['{"a": 1, "b": [true, null], "c": 1.0, "d": 100000, "e": "xé\\n"}', "[]", "{}"]],
  [3802, ['[1, "a"]', '"s"', "null", "12345678901234567890", "1.5", "true", '{"x": {}}']],
  [114, ['{"b": [true, null], "a": 1, "a": 2,  "d": 1e5}', '{"1": 1, "__proto__": 2}']],
  [114, ['{"x\'y": "it\'s", "q": "\\"", "big": 1e400, "neg": -0, "negf": -0.0}']],
  [114, ['["\\ud83d\\ude00", "\\u0000", "\\ud800", "\\/", 1E2, 0.5e-3]', " [ 1 , 2 ] "]],
  [1007, ["{1,2}", "{{1,2},{3,4}}", "{}", "[0:1]={1,2}", "{NULL}"]],
  [1009, ['{a,NULL,"b c","NULL",""}', '{"a\\"b\\\\c"}', '{"it\'s"}']],
  // repr() escapes what str.isprintable() rejects (unassigned, private use, format, separators)
  [1009, ["{\u00a0nbsp\u200b\u0085\u00ad,naïve✓😀,\u0378\ue000\u{10ffff}\u2028,\u007f\u0001}"]],
  [1231, ["{1.5,NULL,NaN,0.0000001}"]],
  [1182, ["{2026-01-02,infinity}"]],
  [1000, ["{t,f}"]],
  [3807, ['{"{\\"a\\": 1}","[1, 2.5]"}']],
  [1001, ['{"\\\\x00","\\\\x27"}']],
  [651, ["{10.0.0.0/8,::/0}"]],
  [1041, ["{192.168.1.5,::1,10.1.2.3/8}"]],
  [1187, ['{"1 day","-1 days +02:00:00","1 mon"}']],
  [1270, ["{03:04:05+11}"]],
  [1028, ["{1,2}"]],
  [1185, ['{"2026-01-02 03:04:05+00","2026-01-02 03:04:05+05:30","2026-01-02 03:04:05-05"}']],
  [1115, ['{"2026-01-02 03:04:05","2026-01-02 03:04:05.25"}']],
  [1183, ["{03:04:05,03:04:05.5}"]],
  [2951, ["{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"]],
  [1022, ["{1.5,NaN,-Infinity,1e+16}"]],
  [1021, ["{0.1}"]],
  [791, ["{$1.00}"]],
  [1014, ['{"ab  "}']],
  [3905, ['{"[1,3)","[5,7)"}', "{empty}"]],
  [17, ["\\x00ab", "\\x", "\\x27", "\\x2722", "\\x5c7f80ff0a0d09", "\\x22", "abc"]],
  [2950, ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]],
  [869, ["192.168.1.5/24", "192.168.1.5", "::ffff:1.2.3.4", "2001:db8::1:0:0:1", "::", "::1"]],
  [869, ["1::", "2001:db8::/32", "fe80::1:2:3:4/64", "10.1.2.3/8", "2001:0:0:1::1", "0.0.0.0/0"]],
  [869, ["1:0:0:2:0:0:0:3", "::1.2.3.4", "1:2:3:4:5:6:7:8", "2001:db8:0:0:1::/96"]],
  [650, ["192.168.1.0/24"]],
  [600, ["(1,2)", "(-1.5,1e+20)"]],
  [3904, ["[1,10)", "empty"]],
  [3926, ["(,5)"]],
  [3906, ["[1.5,2.5)", "[0.0000001,1)"]],
  [3912, ["[2026-01-01,)", "[2026-01-01,infinity)"]],
  [3908, ['["2026-01-01 00:00:00","2026-02-01 00:00:00.5")', '["2026-01-01 00:00:00",infinity)']],
  [3910, ['["2026-01-01 00:00:00+00",)', '["2026-01-01 00:00:00+05:30","2026-01-02 00:00:00+11"]']],
  [4451, ["{[1,3),[5,7)}", "{}"]],
  [4533, ['{["2026-01-01 00:00:00","2026-01-02 00:00:00")}']],
  [2249, ['(1,"a b",,"")', '("a""b",x)', "()"]],
  [22, ["1 2 3", ""]],
  [142, ["<a/>"]],
  [1560, ["101"]],
  [16385, ["an enum label"]],
];
/** A fixed pseudo-random sequence (mulberry32), so the float and numeric samples never change. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const next = random(20260102);
/** Doubles from random bit patterns, written as JavaScript writes them (float() reads them). */
const FLOATS = Array.from({ length: 300 }, () => {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, Math.floor(next() * 2 ** 32));
  view.setUint32(4, Math.floor(next() * 2 ** 32));
  return String(view.getFloat64(0));
});
/** numeric texts of random precision and scale, as PostgreSQL writes them. */
const NUMERICS = Array.from({ length: 100 }, () => {
  const digits = Array.from({ length: 1 + Math.floor(next() * 30) }, () => Math.floor(next() * 10));
  const scale = Math.floor(next() * (digits.length + 8));
  const text = digits.join("").padStart(scale + 1, "0");
  const int = text.slice(0, text.length - scale).replace(/^0+(?=\d)/, "");
  return `${next() < 0.3 ? "-" : ""}${int}${scale ? `.${text.slice(-scale)}` : ""}`;
});
TEXTS.push([701, FLOATS], [1700, NUMERICS]);
const CASES = TEXTS.flatMap(([oid, texts]) => texts.map((text) => ({ text, oid })));

interface Python {
  str: string;
  repr: string;
  type: string;
  numeric: boolean;
  json: string | { error: string };
  cellRepr: string;
  cellType: string;
}
type Outcome = Python | { error: string };

/** pg8000's outcome for each case, our cell built back into Python alongside. */
function python(cells: readonly PyCell[]): Outcome[] {
  const pg = CASES.map((c, i) => ({ ...c, cell: cells[i] }));
  const out = execFileSync(PYTHON, [ORACLE], {
    input: JSON.stringify({ pg }),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  return (JSON.parse(out) as { pg: Outcome[] }).pg;
}

const pick = ({ str, repr, numeric, json }: Python) => ({ str, repr, numeric, json });

/** lava's json.dumps of the value alone, read off its jsonl row. */
function ourJson(cell: PyCell): string | { error: string } {
  try {
    const line = jsonlWriter({ sortKeys: false }).row(["c"], [cell]);
    return line.slice('{"c": '.length, -"}\n".length);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe("cellFromPg gives the value pg8000 gives Python", () => {
  it(`converts all ${CASES.length} PostgreSQL texts as pg8000 does, str() and repr() alike`, () => {
    // Prepare
    const cells = CASES.map(({ text, oid }) => cellFromPg(text, oid));
    const expected = python(cells);
    // Act
    const differences = CASES.flatMap((c, i): unknown[] => {
      const cell = cells[i] as PyCell;
      const want = expected[i] as Outcome;
      if ("error" in want) {
        // pg8000 raises (lava's job fails): we keep the text.
        const same = cell.t === "str" && cell.v === c.text;
        return same ? [] : [{ ...c, pg8000: want, ours: cell }];
      }
      const json = ourJson(cell);
      const got = {
        str: pyStr(cell),
        repr: pyRepr(cell),
        numeric: isNumeric(cell),
        // An error on both sides matches when ours carries Python's message.
        json:
          typeof json === "object" &&
          typeof want.json === "object" &&
          json.error.endsWith(want.json.error)
            ? want.json
            : json,
        // Our cell, built into a Python object, is pg8000's value.
        built: { repr: want.cellRepr, type: want.cellType },
      };
      const wanted = { ...pick(want), built: { repr: want.repr, type: want.type } };
      return isDeepStrictEqual(got, wanted) ? [] : [{ ...c, pg8000: wanted, ours: got }];
    });
    // Assess
    expect(CASES.length).toBeGreaterThanOrEqual(600);
    expect(differences).toEqual([]);
  });

  it("has per-column converters (the csv fast paths) that agree with str() of the cell on every case", () => {
    const differences = CASES.flatMap(({ text, oid }) => {
      const cell = cellFromPg(text, oid);
      const column = columnText(oid);
      const got = { str: column.str(text), numeric: column.numeric(text) };
      // csv.writer writes None as nothing.
      const want =
        text === null
          ? { str: "", numeric: false }
          : { str: pyStr(cell), numeric: isNumeric(cell) };
      return got.str === want.str && got.numeric === want.numeric ? [] : [{ oid, text, got, want }];
    });
    expect(differences).toEqual([]);
    expect([columnText(20).str(null), columnText(20).numeric(null)]).toEqual(["", false]);
  });

  it("keeps the text where pg8000 would fail, and reads SQL NULL as None", () => {
    expect(cellFromPg("24:00:00", 1083)).toEqual({ t: "str", v: "24:00:00" });
    expect(cellFromPg("[0:1]={1,2}", 1007)).toEqual({ t: "str", v: "[0:1]={1,2}" });
    expect(cellFromPg(null, 25)).toEqual({ t: "none" });
  });
});
