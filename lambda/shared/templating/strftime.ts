/**
 * C `strftime` (glibc, C locale) over broken-down time, as Python's
 * `datetime.strftime` does it on Linux.
 */
import { dayOfYear, formatOffset, pad, type TimeFields } from "./time-fields";

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

const hour12 = (f: TimeFields): number => (f.hour % 12 === 0 ? 12 : f.hour % 12);

/** ISO 8601 week-numbering year and week (`%G`, `%V`). */
function isoWeek(f: TimeFields): { year: number; week: number } {
  const isoDay = f.wday === 0 ? 7 : f.wday; // Monday = 1
  // The Thursday of this week decides the year.
  const thursday = new Date(Date.UTC(f.year, f.month - 1, f.day + 4 - isoDay));
  const year = thursday.getUTCFullYear();
  const yday = dayOfYear(year, thursday.getUTCMonth() + 1, thursday.getUTCDate());
  return { year, week: Math.floor(yday / 7) + 1 };
}

/** Numeric directives: their value and padded width (for `%-x`, unpadded). */
function numeric(f: TimeFields, directive: string): [number, number] | undefined {
  switch (directive) {
    case "d":
      return [f.day, 2];
    case "m":
      return [f.month, 2];
    case "H":
      return [f.hour, 2];
    case "I":
      return [hour12(f), 2];
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

/**
 * Format `f` like Python's `strftime` on glibc in the C locale: `%a %A %b %B
 * %c %d %f %H %I %j %m %M %p %S %U %w %W %x %X %y %Y %z %Z %%`, the glibc
 * extras `%C %D %e %F %G %h %k %l %n %P %r %R %t %T %u %V`, and `%-d`-style
 * unpadded numbers; unknown directives are left as they are.
 */
export function strftime(f: TimeFields, format: string): string {
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
        return pad(hour12(f), 2, " ");
      case "p":
        return f.hour < 12 ? "AM" : "PM";
      case "P":
        return f.hour < 12 ? "am" : "pm";
      case "f":
        return pad(f.us, 6);
      case "z":
        return f.offsetSeconds === undefined ? "" : formatOffset(f.offsetSeconds, false);
      case "Z":
        return f.zoneName ?? "";
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
