/** Template contexts for tests: a fixed run start and a typical S3 key. */
import { baseContext } from "../../lambda/shared/templating/context";
import { renderTemplate } from "../../lambda/shared/templating/render";

/** Saturday 2026-01-31 08:05:09.123 UTC. */
export const FIXED = new Date(Date.UTC(2026, 0, 31, 8, 5, 9, 123));

/** The base context of realm `prod` started at {@link FIXED} (UTC), with a `key` and `extra`. */
export function ctx(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...baseContext({
      realm: {
        name: "prod",
        top: { s3_temp: "s3://prod-temp/lava/tmp", s3_payloads: "s3://prod-payloads/p" },
      },
      globals: { g: "G" },
      start: FIXED,
      timeZone: "UTC",
    }),
    key: "landing/sales/2026/orders.csv",
    ...extra,
  };
}

/** Render `source` in {@link ctx}`(extra)`, named `test` in errors. */
export const render = (source: string, extra: Record<string, unknown> = {}): string =>
  renderTemplate(source, ctx(extra), "test");
