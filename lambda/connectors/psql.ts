/**
 * The psql connector (SPEC §3.5): argv and environment to run psql on a
 * resolved connection. Connection settings travel in libpq's PG* variables (no
 * quoting problems, nothing to parse in argv); the password in a 0600 pgpass
 * file in a private directory, or — when too long for psql — in PGPASSWORD of
 * the psql process only. Never in argv, never in any other file.
 */
import { constants } from "node:fs";
import { access, chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { ConnectionConfigError } from "../shared/errors";
import type { ResolvedDb } from "./types";

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
 * Longest password put in a pgpass file. Older psql/libpq builds cut longer
 * ones (the seed's "psql CLI password limitations"); IAM tokens (~300 chars,
 * ~1.2 KB with session credentials) always exceed it.
 */
export const PGPASS_MAX_PASSWORD = 100;

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
  /** Removes the private directory and pgpass file; safe to call twice. */
  cleanup(): Promise<void>;
}

/** Escape a pgpass field: `\` and `:` are special to libpq. */
export function pgpassEscape(field: string): string {
  return field.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** Whether a password can go into a pgpass file. */
export function fitsPgpass(password: string): boolean {
  return password.length <= PGPASS_MAX_PASSWORD && !/[\r\n]/.test(password);
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
  let dir: string | undefined;
  let passwordVia: PsqlInvocation["passwordVia"];
  if (conn.auth === "password" && fitsPgpass(password) && !options.passwordInEnv) {
    dir = await mkdtemp(join(tmpdir(), "lava-psql-"));
    await chmod(dir, 0o700);
    const file = join(dir, "pgpass");
    const line = [conn.host, String(conn.port), "*", conn.user, password].map((f, i) =>
      i === 2 ? f : pgpassEscape(f),
    );
    await writeFile(file, `${line.join(":")}\n`, { mode: 0o600, flag: "wx" });
    env.PGPASSFILE = file;
    passwordVia = "pgpass";
  } else {
    env.PGPASSWORD = password;
    passwordVia = "env";
  }
  const privateDir = dir;
  return {
    argv: [...PSQL_OPTIONS, ...(options.extraArgs ?? [])],
    env,
    passwordVia,
    cleanup: async () => {
      if (privateDir) await rm(privateDir, { recursive: true, force: true });
    },
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
