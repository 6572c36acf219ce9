/**
 * Field schemas shared by the spec objects. Each carries the message the
 * formatter prints ("expected …"); the formatter appends the bad value.
 */
import { z } from "zod";
import { parseDuration, parseSize } from "./units";

/** A non-empty string. */
export const text = (what = "a non-empty string") =>
  z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });

/** A boolean (YAML `true`/`false`). */
export const bool = () => z.boolean({ error: "expected true or false" });

/** An integer in [min, max]. */
export const intIn = (min: number, max: number) => {
  const error = `expected an integer ${min}-${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
};

/** `<n>[s|m|h]` or a bare number of seconds, at most `maxMs`. */
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

/** `<n>[B|KB|MB|GB|KiB|MiB|GiB]` or a bare number of bytes. */
export const size = () =>
  z.custom<string | number>((v) => parseSize(v) !== undefined, {
    error: "expected a size like 100, 10KB or 1MiB",
  });

/** `s3://bucket[/prefix]`. */
export const S3_LOCATION = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;
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
