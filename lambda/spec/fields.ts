/**
 * Field schemas shared by the spec objects. Each carries the message the
 * formatter prints ("expected …"); the formatter appends the bad value.
 */
import { z } from "zod";
import { S3_LOCATION } from "../shared/s3-objects";
import { parseDuration, parseSize } from "./units";

/** A non-empty string. */
export const text = (what = "a non-empty string") =>
  z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });

/** A boolean (YAML `true`/`false`). */
export const bool = () => z.boolean({ error: "expected true or false" });

const STR2BOOL: Record<string, boolean> = {
  true: true,
  t: true,
  yes: true,
  y: true,
  false: false,
  f: false,
  no: false,
  n: false,
};

/** lava's `str2bool` (lava/lib/misc.py): a boolean, or a string it reads as one; `undefined` otherwise. */
export function str2bool(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value !== "string") return undefined;
  const t = value.trim().toLowerCase();
  if (t in STR2BOOL) return STR2BOOL[t];
  return /^[+-]?\d+$/.test(t) ? Number(t) !== 0 : undefined;
}

/**
 * A boolean where lava reads strings with `str2bool` (`"true"`, `"no"`, `"1"`,
 * …), made a boolean. Only for fields lava reads so: elsewhere lava tests a
 * string's truth, so `"false"` would mean true there.
 */
export const lavaBool = () =>
  z
    .custom<boolean | string>((v) => str2bool(v) !== undefined, { error: "expected true or false" })
    .transform((v) => str2bool(v) as boolean);

/** An integer in [min, max]. */
export const intIn = (min: number, max: number) => {
  const error = `expected an integer ${min}-${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
};

/**
 * An integer in [min, max], also written as a string of digits (lava's
 * `posint`, lava/lib/schema/lava/common/posint.yaml), made a number.
 */
export const intOrDigits = (min: number, max: number) => {
  const error = `expected an integer ${min}-${max}`;
  const asInt = (v: unknown) =>
    typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  return z
    .custom<number | string>(
      (v) => {
        const n = asInt(v);
        return Number.isInteger(n) && n >= min && n <= max;
      },
      { error },
    )
    .transform((v) => asInt(v));
};

/** `<n>[s|m|h|d|w]` or a bare number of seconds, at most `maxMs`. */
export const duration = (maxMs = Number.POSITIVE_INFINITY, maxText = "") =>
  z.custom<string | number>(
    (v) => {
      const ms = parseDuration(v);
      return ms !== undefined && ms <= maxMs;
    },
    {
      error: `expected a duration like 30s, 5m or 2h${maxText ? ` (at most ${maxText})` : ""}`,
    },
  );

/** `<n>[B|K|KB|M|MB|G|GB|T|TB|P|PB|KiB|MiB|GiB|TiB|PiB]` or a bare number of bytes. */
export const size = () =>
  z.custom<string | number>((v) => parseSize(v) !== undefined, {
    error: "expected a size like 100, 10KB or 1MiB",
  });

/** `s3://bucket[/prefix]`. */
export const s3Location = () =>
  z.string({ error: "expected an S3 location s3://bucket/prefix" }).regex(S3_LOCATION, {
    error: "expected an S3 location s3://bucket/prefix",
  });

/** An S3 bucket name. */
export const bucketName = () =>
  z
    .string({ error: "expected an S3 bucket name" })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "expected an S3 bucket name" });

/** A list of non-empty strings. */
export const textList = (what = "a list of non-empty strings") =>
  z.array(z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` }), {
    error: `expected ${what}`,
  });

/**
 * Program arguments: strings, or numbers passed as their decimal strings
 * (lava's exe/pkg schema allows numbers; lava passes `str(a)`).
 */
export const argList = (what = "a list of arguments (strings or numbers)") =>
  z.array(
    z.union([z.string(), z.number().transform((n) => String(n))], {
      error: `expected ${what}`,
    }),
    { error: `expected ${what}` },
  );

/** One string or a list of them (lava accepts both for globs and job ids). */
export const textOrList = (what: string) =>
  z.union([text(what), textList(`${what} or a list of them`).min(1)], {
    error: `expected ${what} or a list of them`,
  });

/** A mapping with string keys and any values (`parameters`, `globals`, `vars`). */
export const mapping = () =>
  z.record(z.string(), z.unknown(), { error: "expected a mapping of names to values" });

/** Identifier of a spec object (`conn_id`, `job_id`, `trigger_id`). */
export const objectId = (what: string) =>
  z
    .string({ error: `expected a ${what}` })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/@+-]*$/, {
      error: `expected a ${what}: letters, digits and _ . : / @ + -`,
    })
    .max(200, { error: `expected a ${what} of at most 200 characters` });
