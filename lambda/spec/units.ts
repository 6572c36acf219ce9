/**
 * Durations (`30s`, `5m`, `2h`, bare number = seconds) and sizes (`10KB`,
 * `1MiB`, bare number = bytes; KB = 1000, KiB = 1024), as SPEC §1.
 */

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/i;
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i;

const DURATION_SECONDS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600 };
const SIZE_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Parse a duration to whole milliseconds; `undefined` when it is not one. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const m = DURATION.exec(value);
  if (!m) return undefined;
  const unit = DURATION_SECONDS[(m[2] ?? "").toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * unit * 1000);
}

/** Parse a size to whole bytes; `undefined` when it is not one. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const m = SIZE.exec(value);
  if (!m) return undefined;
  const unit = SIZE_BYTES[(m[2] ?? "").toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * unit);
}
