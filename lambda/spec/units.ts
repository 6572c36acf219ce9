/**
 * Durations and sizes (docs/realm-files.md §4), in lava's forms as well as ours.
 *
 * Durations: `<n>[s|m|h|d|w]`, a bare number is seconds (lava's
 * `duration_to_seconds`, lava/lib/datetime.py).
 * Sizes: `<n>[B|K|KB|M|MB|G|GB|T|TB|P|PB|KiB|MiB|GiB|TiB|PiB]`, a bare
 * number is bytes; K…P and KB…PB are decimal (1000), KiB…PiB binary (1024)
 * (lava's `size_to_bytes`, lava/lib/misc.py).
 * `<n>` may have a fraction (`1.5h`, `.5K`) or an exponent (`1e3K`), as in
 * lava; units are case-insensitive here (lava's are case-sensitive, so every
 * lava value reads the same).
 */

const NUMBER = String.raw`((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)`;
const DURATION = new RegExp(String.raw`^\s*${NUMBER}\s*([wdhms]?)\s*$`, "i");
const SIZE = new RegExp(
  String.raw`^\s*${NUMBER}\s*(kib|mib|gib|tib|pib|kb|mb|gb|tb|pb|b|k|m|g|t|p)?\s*$`,
  "i",
);

const DURATION_SECONDS: Record<string, number> = {
  "": 1,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 7 * 86_400,
};
const SIZE_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  p: 1000 ** 5,
  pb: 1000 ** 5,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  pib: 1024 ** 5,
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
  const ms = Math.round(Number(m[1]) * unit * 1000);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Parse a size to whole bytes (rounded, as lava does); `undefined` when it is not one. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const m = SIZE.exec(value);
  if (!m) return undefined;
  const unit = SIZE_BYTES[(m[2] ?? "").toLowerCase()] ?? 1;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isFinite(bytes) ? bytes : undefined;
}
