/**
 * Finding the PostgreSQL server binaries (initdb, pg_ctl, postgres) for the test harness and
 * `lava-aurora demo`. Distributions put them in different places: Debian and Ubuntu under
 * /usr/lib/postgresql/<major>/bin (not on PATH), Homebrew in a keg-only prefix, source builds in
 * /usr/local/pgsql/bin.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The binaries a throwaway cluster needs. */
export const PG_SERVER_BINARIES = ["initdb", "pg_ctl", "postgres"] as const;

/** Where to look besides PATH and pg_config; parents are globbed for `<version>/bin`. */
export interface PgBinSearch {
  /** Directories holding one subdirectory per major version, each with a `bin/`. */
  versionedParents: readonly string[];
  /** Globs of the form `<dir>/<name>@*` → `<dir>/<name>@<version>/bin` (Homebrew kegs). */
  kegParents: readonly string[];
  /** Fixed directories tried last. */
  fixed: readonly string[];
}

/** The usual places, after PATH and `pg_config --bindir`. */
export const DEFAULT_PG_BIN_SEARCH: PgBinSearch = {
  versionedParents: ["/usr/lib/postgresql"],
  kegParents: ["/opt/homebrew/opt", "/usr/local/opt"],
  fixed: ["/usr/local/pgsql/bin"],
};

/** Options for {@link findPgBin}. */
export interface FindPgBinOptions {
  /** Environment for PATH and LAVA_PG_BIN. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** A major version tried first where installed (the test suite pins 15). */
  prefer?: string;
  /** Default {@link DEFAULT_PG_BIN_SEARCH}. */
  search?: PgBinSearch;
}

/** Where the binaries were found, or why not. */
export type PgBinResult =
  | { found: true; dir: string }
  | { found: false; reason: "override" | "none"; override?: string };

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `dir` holds every server binary. */
export function hasPgServer(dir: string): boolean {
  return PG_SERVER_BINARIES.every((b) => isExecutable(join(dir, b)));
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Newest first: "16" before "15" before "9.6". */
function byVersionDesc(a: string, b: string): number {
  const num = (v: string) => v.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const [x, y] = [num(a), num(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (y[i] ?? 0) - (x[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function pgConfigBinDir(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return execFileSync("pg_config", ["--bindir"], { env, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** Candidate directories in the order they are tried (unfiltered). */
export function pgBinCandidates(
  env: NodeJS.ProcessEnv,
  search: PgBinSearch = DEFAULT_PG_BIN_SEARCH,
  prefer?: string,
): string[] {
  const preferred = prefer
    ? search.versionedParents.map((p) => join(p, prefer, "bin"))
    : ([] as string[]);
  const onPath = (env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  const pgConfig = pgConfigBinDir(env);
  const versioned = search.versionedParents.flatMap((parent) =>
    listDir(parent)
      .sort(byVersionDesc)
      .map((v) => join(parent, v, "bin")),
  );
  const kegs = search.kegParents.flatMap((parent) =>
    listDir(parent)
      .filter((name) => /^postgresql(@[\d.]+)?$/.test(name))
      .sort((a, b) => byVersionDesc(a.split("@")[1] ?? "999", b.split("@")[1] ?? "999"))
      .map((name) => join(parent, name, "bin")),
  );
  return [
    ...preferred,
    ...onPath,
    ...(pgConfig ? [pgConfig] : []),
    ...versioned,
    ...kegs,
    ...search.fixed,
  ];
}

/**
 * The directory of the PostgreSQL server binaries: `LAVA_PG_BIN` if set (and then only it), else
 * the preferred major version where installed, else the first of PATH, `pg_config --bindir`, the
 * newest `/usr/lib/postgresql/<version>/bin`, Homebrew's `postgresql@<version>` kegs and
 * `/usr/local/pgsql/bin` that holds initdb, pg_ctl and postgres.
 */
export function findPgBin(opts: FindPgBinOptions = {}): PgBinResult {
  const env = opts.env ?? process.env;
  const override = env.LAVA_PG_BIN;
  if (override) {
    return hasPgServer(override)
      ? { found: true, dir: override }
      : { found: false, reason: "override", override };
  }
  const dir = pgBinCandidates(env, opts.search, opts.prefer).find(hasPgServer);
  return dir ? { found: true, dir } : { found: false, reason: "none" };
}

/** What to tell a user whose machine has no server binaries (or whose LAVA_PG_BIN is wrong). */
export function pgBinHint(result: Extract<PgBinResult, { found: false }>): string {
  const first =
    result.reason === "override"
      ? `LAVA_PG_BIN=${result.override} does not hold ${PG_SERVER_BINARIES.join(", ")}.`
      : `no PostgreSQL server binaries (${PG_SERVER_BINARIES.join(", ")}) found on PATH, by pg_config, in /usr/lib/postgresql/*/bin, Homebrew's postgresql@* or /usr/local/pgsql/bin.`;
  return [
    first,
    "Install them:",
    "  Debian/Ubuntu: sudo apt-get install postgresql",
    "  macOS:         brew install postgresql@15",
    "or point LAVA_PG_BIN at the directory that holds them.",
  ].join("\n");
}
