/** The variables every job template sees. */
import { pyDateTime } from "./py-datetime";
import { templateUtils } from "./utils";

/**
 * The variables every job template sees (SPEC §4): `realm`, `job`,
 * `globals`, `vars` (missing ones are `{}`), `start`/`ustart` (the run start
 * as local/UTC {@link pyDateTime}) and `utils`. Callers add type-specific
 * ones (`bucket`, `key`, …).
 */
export function baseContext(options: {
  realm: string;
  job?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  start: Date;
}): Record<string, unknown> {
  return {
    realm: options.realm,
    job: options.job ?? {},
    globals: options.globals ?? {},
    vars: options.vars ?? {},
    start: pyDateTime(options.start, "local"),
    ustart: pyDateTime(options.start, "utc"),
    utils: templateUtils(),
  };
}
