/** Python's `datetime.strptime` directives (C locale). */
import { valueError } from "./errors";

/** The fields `strptime` found; defaults as Python's (1900-01-01 00:00:00). */
export interface Parsed {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  us: number;
  offset: number | undefined;
  zone: string | undefined;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH_NAMES = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

const PATTERNS: Record<string, string> = {
  d: "(3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])",
  f: "(\\d{1,6})",
  H: "(2[0-3]|[0-1]\\d|\\d)",
  I: "(1[0-2]|0[1-9]|[1-9])",
  j: "(36[0-6]|3[0-5]\\d|[12]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])",
  m: "(1[0-2]|0[1-9]|[1-9])",
  M: "([0-5]\\d|\\d)",
  S: "(6[0-1]|[0-5]\\d|\\d)",
  y: "(\\d\\d)",
  Y: "(\\d\\d\\d\\d)",
  z: "(Z|[+-]\\d\\d:?[0-5]\\d(?::?[0-5]\\d(?:\\.\\d{1,6})?)?)",
  Z: "(utc|gmt|[a-z]{3,5})",
  p: "(am|pm)",
  b: `(${MONTH_NAMES.join("|")}|${MONTHS.join("|")})`,
  B: `(${MONTH_NAMES.join("|")}|${MONTHS.join("|")})`,
  a: `(${DAY_NAMES.join("|")}|${DAYS.join("|")})`,
  A: `(${DAY_NAMES.join("|")}|${DAYS.join("|")})`,
  w: "([0-6])",
  u: "([1-7])",
  "%": "(%)",
};

/** Parse `text` with `format` like Python's `_strptime`; ValueError when it does not match. */
export function strptime(text: string, format: string): Parsed {
  const kinds: string[] = [];
  let re = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string;
    if (c === "%") {
      const d = format[++i] ?? "";
      const expanded = {
        c: "%a %b %d %H:%M:%S %Y",
        x: "%m/%d/%y",
        X: "%H:%M:%S",
        D: "%m/%d/%y",
        T: "%H:%M:%S",
        F: "%Y-%m-%d",
        R: "%H:%M",
      }[d];
      if (expanded) {
        format = format.slice(0, i - 1) + expanded + format.slice(i + 1);
        i -= 2;
        continue;
      }
      const p = PATTERNS[d];
      if (!p) throw valueError(`'${d}' is a bad directive in format '%${d}'`);
      re += p;
      kinds.push(d);
    } else if (/\s/.test(c)) {
      re += "\\s+";
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  const m = new RegExp(`^${re}`, "i").exec(text);
  if (!m) throw valueError(`time data '${text}' does not match format '${format}'`);
  if (m[0].length !== text.length)
    throw valueError(`unconverted data remains: ${text.slice(m[0].length)}`);
  const out: Parsed = {
    year: 1900,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    second: 0,
    us: 0,
    offset: undefined,
    zone: undefined,
  };
  let pm: boolean | undefined;
  let hour12: number | undefined;
  let yday: number | undefined;
  kinds.forEach((k, idx) => {
    const v = (m[idx + 1] ?? "").trim();
    const n = Number(v);
    switch (k) {
      case "Y":
        out.year = n;
        break;
      case "y":
        out.year = n < 69 ? 2000 + n : 1900 + n;
        break;
      case "m":
        out.month = n;
        break;
      case "b":
      case "B":
        out.month = MONTHS.indexOf(v.toLowerCase().slice(0, 3)) + 1;
        break;
      case "d":
        out.day = n;
        break;
      case "H":
        out.hour = n;
        break;
      case "I":
        hour12 = n;
        break;
      case "p":
        pm = v.toLowerCase() === "pm";
        break;
      case "M":
        out.minute = n;
        break;
      case "S":
        out.second = n;
        break;
      case "f":
        out.us = Number(v.padEnd(6, "0"));
        break;
      case "j":
        yday = n;
        break;
      case "z": {
        if (v.toUpperCase() === "Z") out.offset = 0;
        else {
          const d = v.replace(/:/g, "");
          const sign = d.startsWith("-") ? -1 : 1;
          out.offset =
            sign *
            (Number(d.slice(1, 3)) * 3600 +
              Number(d.slice(3, 5)) * 60 +
              Number(d.slice(5, 7) || 0));
        }
        break;
      }
      case "Z":
        out.zone = v.toUpperCase();
        break;
      default:
        break;
    }
  });
  if (hour12 !== undefined) out.hour = (hour12 % 12) + (pm ? 12 : 0);
  if (yday !== undefined) {
    const d = new Date(Date.UTC(out.year, 0, yday));
    out.month = d.getUTCMonth() + 1;
    out.day = d.getUTCDate();
  }
  if (out.zone !== undefined && out.offset === undefined) {
    out.zone = undefined;
  }
  return out;
}
