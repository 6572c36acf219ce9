/**
 * What a child process (an exe/pkg payload, a connector's psql) inherits from
 * the runner: an allow-list, never the whole environment. The runner's
 * environment holds its AWS credentials (which read every realm password),
 * endpoint overrides, NODE_OPTIONS and libpq's PG* variables; none of them
 * may reach a payload or redirect a psql.
 */

/**
 * The inherited variables: search path, home and temp directories, locale and
 * time zone. LD_LIBRARY_PATH because the Lambda base images set it for their
 * own binaries (node, the runtime's libraries); it carries no secret.
 */
export const INHERITED_VARIABLE =
  /^(PATH|HOME|TMPDIR|LANG|LANGUAGE|LC_[A-Z_]+|TZ|LD_LIBRARY_PATH)$/;

/** The allow-listed part of `from`. */
export function inheritedEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== undefined && INHERITED_VARIABLE.test(k)) env[k] = v;
  }
  return env;
}
