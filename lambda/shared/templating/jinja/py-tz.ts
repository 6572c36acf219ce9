/**
 * Time zones for Python datetimes: `datetime.timezone.utc`, fixed offsets
 * (`timezone(timedelta(hours=11))`, dateutil's `tzoffset`/`tzutc`) and
 * dateutil's `tzlocal()` / `tz.gettz(name)` over an IANA zone, with the
 * zone's abbreviation (`AEDT`) as `tzname()`, as tzdata gives it.
 */

import { readFileSync } from "node:fs";
import { offsetAt } from "../../zoned";
import { PyObject } from "./values";

/** A zone's abbreviations from its TZif file: transitions, and the footer's std/dst rule. */
interface ZoneNames {
  readonly times: number[];
  readonly types: { offset: number; abbr: string }[];
  readonly index: number[];
  readonly footer: { offset: number; abbr: string }[];
}

const TZIF = new Map<string, ZoneNames | undefined>();

function posixOffset(text: string): number {
  const [h = 0, m = 0, sec = 0] = text.replace(/^[+-]/, "").split(":").map(Number);
  return (text.startsWith("-") ? 1 : -1) * (h * 3600 + m * 60 + sec);
}

/** Parse `/usr/share/zoneinfo/<zone>` (TZif v2+), as glibc and dateutil read it. */
function readTzif(zone: string): ZoneNames | undefined {
  if (TZIF.has(zone)) return TZIF.get(zone);
  let names: ZoneNames | undefined;
  try {
    if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) throw new Error("not a zone name");
    const b = readFileSync(`/usr/share/zoneinfo/${zone}`);
    const counts = (at: number) => [0, 1, 2, 3, 4, 5].map((i) => b.readUInt32BE(at + 20 + i * 4));
    const [isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0] = counts(0);
    if (b.toString("latin1", 0, 4) !== "TZif" || b[4] === 0) throw new Error("no v2 data");
    const v2 = 44 + time * 5 + type * 6 + chars + leap * 8 + isstd + isut;
    const [isut2 = 0, isstd2 = 0, leap2 = 0, time2 = 0, type2 = 0, chars2 = 0] = counts(v2);
    let at = v2 + 44;
    const times = Array.from({ length: time2 }, (_, i) => Number(b.readBigInt64BE(at + i * 8)));
    at += time2 * 8;
    const index = Array.from({ length: time2 }, (_, i) => b[at + i] ?? 0);
    at += time2;
    const raw = Array.from(
      { length: type2 },
      (_, i) => [b.readInt32BE(at + i * 6), b[at + i * 6 + 5] ?? 0] as const,
    );
    at += type2 * 6;
    const text = b.toString("latin1", at, at + chars2);
    const abbr = (i: number) => text.slice(i, text.indexOf("\0", i)).replace(/^<|>$/g, "");
    at += chars2 + leap2 * 12 + isstd2 + isut2;
    const tz = b.toString("latin1", at).split("\n")[1] ?? "";
    const m = /^(<[^>]+>|[A-Za-z]+)([+-]?[\d:]+)(?:(<[^>]+>|[A-Za-z]+)([+-]?[\d:]+)?)?/.exec(tz);
    const footer: { offset: number; abbr: string }[] = [];
    if (m) {
      const std = posixOffset(m[2] ?? "0");
      footer.push({ offset: std, abbr: (m[1] ?? "").replace(/^<|>$/g, "") });
      if (m[3])
        footer.push({
          offset: m[4] ? posixOffset(m[4]) : std + 3600,
          abbr: m[3].replace(/^<|>$/g, ""),
        });
    }
    names = { times, index, types: raw.map(([offset, i]) => ({ offset, abbr: abbr(i) })), footer };
  } catch {
    names = undefined;
  }
  TZIF.set(zone, names);
  return names;
}

/** The tzdata abbreviation in force at `utcSeconds` with `offset`, if the zone file says. */
function tzdataName(zone: string, utcSeconds: number, offset: number): string | undefined {
  const z = readTzif(zone);
  if (!z) return undefined;
  let i = z.times.length - 1;
  while (i >= 0 && (z.times[i] ?? 0) > utcSeconds) i--;
  const current = i >= 0 ? z.types[z.index[i] ?? 0] : z.types[0];
  if (current && current.offset === offset && (i < z.times.length - 1 || z.footer.length === 0))
    return current.abbr;
  return (
    z.footer.find((f) => f.offset === offset)?.abbr ??
    (current?.offset === offset ? current.abbr : undefined)
  );
}

const US_PER_DAY = 86_400_000_000;

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date of a day number (days since 1970-01-01). */
export function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

export const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
export const daysInMonth = (y: number, m: number): number =>
  [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 31;

/** A tzinfo: offset (in seconds) and name for a wall-clock time (µs since the epoch, naive). */
export abstract class PyTzInfo extends PyObject {
  abstract offsetAt(naiveUs: number): number;
  abstract nameAt(naiveUs: number): string | null;
  /** The offset at an instant (µs since the epoch, UTC), for `astimezone`. */
  offsetAtInstant(utcUs: number): number {
    return this.offsetAt(utcUs);
  }
  dstAt(_naiveUs: number): number | null {
    return null;
  }
}

/** A fixed offset: `datetime.timezone`, or dateutil's `tzutc()` / `tzoffset(None, s)`. */
export class FixedTz extends PyTzInfo {
  constructor(
    readonly seconds: number,
    private readonly style: "timezone" | "tzutc" | "tzoffset" = "timezone",
    private readonly name?: string,
  ) {
    super();
  }
  override get typeName(): string {
    return this.style === "timezone" ? "datetime.timezone" : this.style;
  }
  offsetAt(): number {
    return this.seconds;
  }
  nameAt(): string | null {
    if (this.style === "tzutc") return "UTC";
    if (this.style === "tzoffset") return this.name ?? null;
    if (this.name !== undefined) return this.name;
    if (this.seconds === 0) return "UTC";
    const a = Math.abs(this.seconds);
    const hh = String(Math.floor(a / 3600)).padStart(2, "0");
    const mm = String(Math.floor((a % 3600) / 60)).padStart(2, "0");
    const ss = a % 60 ? `:${String(a % 60).padStart(2, "0")}` : "";
    return `UTC${this.seconds < 0 ? "-" : "+"}${hh}:${mm}${ss}`;
  }
  override dstAt(): number | null {
    return this.style === "timezone" ? null : 0;
  }
  override repr(): string {
    if (this.style === "tzutc") return "tzutc()";
    if (this.style === "tzoffset") {
      return `tzoffset(${this.name === undefined ? "None" : `'${this.name}'`}, ${this.seconds})`;
    }
    if (this.name !== undefined)
      return `datetime.timezone(${tdRepr(this.seconds)}, '${this.name}')`;
    if (this.seconds === 0) return "datetime.timezone.utc";
    return `datetime.timezone(${tdRepr(this.seconds)})`;
  }
  override str(): string {
    return this.style === "timezone" ? (this.nameAt() ?? "") : this.repr();
  }
  override equals(other: unknown): boolean {
    return other instanceof FixedTz && other.seconds === this.seconds;
  }
}

function tdRepr(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const secs = seconds - days * 86400;
  const parts = [days ? `days=${days}` : "", secs ? `seconds=${secs}` : ""].filter(Boolean);
  return `datetime.timedelta(${parts.join(", ") || "0"})`;
}

const ABBREVIATION_LOCALES = [
  "en-US",
  "en-GB",
  "en-AU",
  "en-NZ",
  "en-IN",
  "en-CA",
  "en-IE",
  "en-ZA",
];

/** An IANA zone: dateutil's `tzlocal()` (the process zone) or `tz.gettz(name)`. */
export class ZoneTz extends PyTzInfo {
  constructor(
    readonly zone: string,
    private readonly style: "tzlocal" | "tzfile",
  ) {
    super();
  }
  override get typeName(): string {
    return this.style;
  }
  override offsetAtInstant(utcUs: number): number {
    return Math.round(offsetAt(this.zone, Math.floor(utcUs / 1000)) / 1000);
  }
  offsetAt(naiveUs: number): number {
    // As dateutil's tzlocal: an ambiguous wall time (fold=0) takes the DST offset;
    // otherwise the time is read as standard time, and the offset is the one then.
    const half = 12 * 3600e6;
    const around = [this.offsetAtInstant(naiveUs - half), this.offsetAtInstant(naiveUs + half)];
    const valid = around.filter((o) => this.offsetAtInstant(naiveUs - o * 1e6) === o);
    if (valid.length === 2 && valid[0] !== valid[1]) return Math.max(...valid);
    return this.offsetAtInstant(naiveUs - this.standardOffset(naiveUs) * 1e6);
  }
  /** The zone's standard (smaller) offset in the year of a wall time. */
  private standardOffset(naiveUs: number): number {
    const y = civilFromDays(Math.floor(naiveUs / US_PER_DAY))[0];
    return Math.min(
      this.offsetAtInstant(Date.UTC(y, 0, 1) * 1000),
      this.offsetAtInstant(Date.UTC(y, 6, 1) * 1000),
    );
  }
  nameAt(naiveUs: number): string {
    const at = new Date(Math.floor(naiveUs / 1000) - this.offsetAt(naiveUs) * 1000);
    const fromFile = tzdataName(this.zone, Math.floor(at.getTime() / 1000), this.offsetAt(naiveUs));
    if (fromFile !== undefined) return fromFile;
    for (const locale of ABBREVIATION_LOCALES) {
      const name =
        new Intl.DateTimeFormat(locale, { timeZone: this.zone, timeZoneName: "short" })
          .formatToParts(at)
          .find((x) => x.type === "timeZoneName")?.value ?? "";
      if (/^[A-Z]{2,5}$/.test(name) && !(name === "GMT" && this.offsetAt(naiveUs) !== 0)) {
        return name === "GMT" &&
          /^(UTC|Etc\/UTC|Etc\/Universal|Universal|Zulu|Etc\/Zulu)$/.test(this.zone)
          ? "UTC"
          : name;
      }
    }
    const off = this.offsetAt(naiveUs);
    if (off === 0) return "UTC";
    const a = Math.abs(off);
    const hh = String(Math.floor(a / 3600)).padStart(2, "0");
    const mm = Math.floor((a % 3600) / 60);
    return `${off < 0 ? "-" : "+"}${hh}${mm ? String(mm).padStart(2, "0") : ""}`;
  }
  override dstAt(naiveUs: number): number {
    const y = civilFromDays(Math.floor(naiveUs / US_PER_DAY))[0];
    const jan = this.offsetAtInstant(Date.UTC(y, 0, 1) * 1000);
    const jul = this.offsetAtInstant(Date.UTC(y, 6, 1) * 1000);
    const std = Math.min(jan, jul);
    return this.offsetAt(naiveUs) - std;
  }
  override repr(): string {
    return this.style === "tzlocal" ? "tzlocal()" : `tzfile('/usr/share/zoneinfo/${this.zone}')`;
  }
  override equals(other: unknown): boolean {
    return other instanceof ZoneTz && other.zone === this.zone && other.style === this.style;
  }
}

/** `datetime.timezone.utc`. */
export const UTC = new FixedTz(0);

/** The process's IANA time zone (`TZ`), as Intl resolves it. */
export function processZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export { US_PER_DAY };
