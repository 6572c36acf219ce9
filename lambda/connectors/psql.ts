/**
 * The psql connector (docs/connections.md §9): argv and environment to run psql on a
 * resolved connection. Connection settings travel in libpq's PG* variables (no
 * quoting problems, nothing to parse in argv), none inherited; the password in
 * a 0600 pgpass (pgpass.ts: unlinked before psql starts, where the OS allows)
 * or — when too long for psql — in PGPASSWORD of the psql process only. Never
 * in argv, never in any other file.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { ConnectionConfigError } from "../shared/errors";
import { createPgpass, fitsPgpass, type PgpassDelivery } from "./pgpass";
import type { ResolvedDb } from "./types";

export { fitsPgpass, PGPASS_MAX_PASSWORD, pgpassEscape } from "./pgpass";

/** lava's psql options. */
export const PSQL_OPTIONS = [
  "--no-psqlrc",
  "--quiet",
  "--set",
  "ON_ERROR_STOP=on",
  "--pset",
  "footer=off",
] as const;

/**
 * libpq's variables: none is inherited. Any of them (PGHOSTADDR, PGOPTIONS,
 * PGSERVICE, PGPASSFILE, PGSSL*, and those of future libpq versions) could
 * send the password elsewhere or weaken the connection; psql gets only the
 * ones set from the resolved connection.
 */
const LIBPQ_VARIABLE = /^PG/;

export interface PsqlInvocation {
  /** psql's arguments: lava's options, then the caller's extra arguments. */
  readonly argv: readonly string[];
  /** The full environment for the psql process. */
  readonly env: NodeJS.ProcessEnv;
  /** How the password is delivered (for tests and debugging; never the value). */
  readonly passwordVia: "pgpass" | "env";
  /** Descriptors psql must inherit as 3, 4, … (spawn's stdio after the standard three). */
  readonly fds: readonly number[];
  /** Closes the pgpass descriptor or removes its directory; safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * Prepare a psql invocation. The caller runs `psql` with `argv` and `env`,
 * then calls `cleanup()` whatever happened.
 */
export async function preparePsql(
  conn: ResolvedDb,
  options: {
    applicationName: string;
    extraArgs?: readonly string[];
    baseEnv?: NodeJS.ProcessEnv;
    /** Always deliver the password in PGPASSWORD (of the psql process), never in a pgpass file. */
    passwordInEnv?: boolean;
    /** @default DEFAULT_PGPASS_DELIVERY - a descriptor of an unlinked file on Linux, else a path */
    pgpass?: PgpassDelivery;
  },
): Promise<PsqlInvocation> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(options.baseEnv ?? process.env)) {
    if (!LIBPQ_VARIABLE.test(k)) env[k] = v;
  }
  env.PGHOST = conn.host;
  env.PGPORT = String(conn.port);
  env.PGDATABASE = conn.database;
  env.PGUSER = conn.user;
  env.PGAPPNAME = options.applicationName;
  if (conn.ssl) {
    if (!conn.caFile) {
      throw new ConnectionConfigError(
        `connection ${conn.connId}: psql needs a CA bundle to verify TLS: set the realm's ssl_ca_file or NODE_EXTRA_CA_CERTS`,
      );
    }
    env.PGSSLMODE = "verify-full";
    env.PGSSLROOTCERT = conn.caFile;
  } else {
    // Same as the pg driver with ssl off: no TLS rather than unverified TLS.
    env.PGSSLMODE = "disable";
  }
  // GSSAPI encryption, when a Kerberos ticket is around, would replace the verified TLS session.
  env.PGGSSENCMODE = "disable";

  const password = await conn.password();
  if (conn.auth === "password" && fitsPgpass(password) && !options.passwordInEnv) {
    const pgpass = await createPgpass(
      { host: conn.host, port: conn.port, user: conn.user, password },
      options.pgpass,
    );
    env.PGPASSFILE = pgpass.file;
    return {
      argv: [...PSQL_OPTIONS, ...(options.extraArgs ?? [])],
      env,
      passwordVia: "pgpass",
      fds: pgpass.fds,
      cleanup: () => pgpass.close(),
    };
  }
  env.PGPASSWORD = password;
  return {
    argv: [...PSQL_OPTIONS, ...(options.extraArgs ?? [])],
    env,
    passwordVia: "env",
    fds: [],
    cleanup: async () => undefined,
  };
}

/**
 * The psql on `path` (the runner's PATH, never a payload's), as an absolute
 * path; `undefined` when there is none.
 */
export async function findPsql(path = process.env.PATH ?? ""): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const file = join(dir, "psql");
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // Not here: the next directory.
    }
  }
  return undefined;
}
