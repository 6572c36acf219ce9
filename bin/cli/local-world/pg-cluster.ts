import { chmod, chown, copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort, pgOwner, runPg, stopSync, trackCluster, untrackCluster } from "./pg-process.js";
import { createTestPki } from "./tls.js";

/** The pg_hba.conf line that always comes first: the harness's superuser over the socket. */
export const ADMIN_HBA_LINE = "local all postgres trust";

/** pg_hba.conf lines used when {@link PgClusterOptions.hba} is not given. */
export const DEFAULT_HBA = [
  "hostssl all all 127.0.0.1/32 scram-sha-256",
  "host all all 127.0.0.1/32 scram-sha-256",
];

/** Options for {@link startPgCluster}. */
export interface PgClusterOptions {
  /** pg_hba.conf lines after the admin line. Default {@link DEFAULT_HBA}. */
  hba?: string[];
  /** Serve TLS with a certificate of a fresh test CA. Default true. */
  ssl?: boolean;
  /** Extra postgresql.conf settings (values are quoted for you), e.g. `{ log_connections: "on" }`. */
  settings?: Record<string, string>;
}

/** Options for {@link PgCluster.createRole}. */
export interface CreateRoleOptions {
  /** Password, stored as SCRAM-SHA-256; any characters and lengths (1 KB+) are fine. */
  password?: string;
  /** Whether the role may log in. Default true. */
  login?: boolean;
}

/**
 * A private, running PostgreSQL cluster (15 where installed, see pg-bin.ts) listening on
 * 127.0.0.1 and a unix socket.
 */
export interface PgCluster {
  /** Always "127.0.0.1". */
  host: string;
  /** TCP port on 127.0.0.1 (also names the unix socket `.s.PGSQL.<port>`). */
  port: number;
  /** The test CA certificate (PEM, world-readable) that signed the server certificate. */
  caFile: string;
  /** Directory of the unix socket (also the cluster's root temp dir). */
  socketDir: string;
  /** PGDATA, owned by the `postgres` OS user when running as root. */
  dataDir: string;
  /** Server log (pg_ctl -l). */
  logFile: string;
  /** A connected superuser client over the unix socket; the caller must `end()` it. */
  admin(): Promise<pg.Client>;
  /** Runs one statement as superuser through a small pool over the unix socket. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /**
   * Rewrites pg_hba.conf (admin line first, then `lines`) and waits until the server reloaded it.
   * Invalid lines throw (and leave the previous file in place).
   */
  setHba(lines: string[]): Promise<void>;
  /** CREATE ROLE with LOGIN (unless told otherwise) and an optional password. */
  createRole(name: string, opts?: CreateRoleOptions): Promise<void>;
  /** CREATE DATABASE, optionally owned by `owner`. */
  createDatabase(name: string, owner?: string): Promise<void>;
  /** The server log so far. */
  readLog(): Promise<string>;
  /** Stops the server (immediate mode) and deletes every file; safe to call twice. */
  stop(): Promise<void>;
}

function quoteSetting(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

function confBlock(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key} = ${quoteSetting(value)}\n`)
    .join("");
}

async function giveToPostgres(path: string, mode: number): Promise<void> {
  const owner = pgOwner();
  if (owner) await chown(path, owner.uid, owner.gid);
  await chmod(path, mode);
}

async function writeHba(dataDir: string, lines: string[]): Promise<void> {
  const file = join(dataDir, "pg_hba.conf");
  await writeFile(file, `${[ADMIN_HBA_LINE, ...lines].join("\n")}\n`);
  await giveToPostgres(file, 0o600);
}

/**
 * Starts a throw-away PostgreSQL cluster (15 where installed) in a private temp dir (as the
 * `postgres` OS user when running as root), with TLS from a fresh test CA, scram-sha-256 auth
 * on 127.0.0.1 by default and trust for the superuser `postgres` over the unix socket. Intended
 * use: one per test file, in beforeAll/afterAll (the demo uses one too). Clusters left running
 * are stopped on process exit (and by a watchdog if the process is killed). The temp dir lives
 * under os.tmpdir(), which must be traversable by the `postgres` user when running as root.
 */
export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const rootDir = await mkdtemp(join(tmpdir(), "lava-pg-"));
  const dataDir = join(rootDir, "data");
  try {
    return await startIn(rootDir, dataDir, opts);
  } catch (error) {
    untrackCluster(dataDir);
    stopSync(dataDir, rootDir);
    throw error;
  }
}

const INITDB_ARGS = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"];

async function startIn(
  rootDir: string,
  dataDir: string,
  opts: PgClusterOptions,
): Promise<PgCluster> {
  await giveToPostgres(rootDir, 0o711);
  const logFile = join(rootDir, "postgres.log");
  const pki = await createTestPki(join(rootDir, "tls"), { name: rootDir.slice(-6) });
  await chmod(join(rootDir, "tls"), 0o755);

  await runPg("initdb", ["-D", dataDir, ...INITDB_ARGS, "--no-instructions"], rootDir);
  trackCluster(dataDir, rootDir);
  const ssl = opts.ssl ?? true;
  if (ssl) {
    await copyFile(pki.serverCertFile, join(dataDir, "server.crt"));
    await giveToPostgres(join(dataDir, "server.crt"), 0o644);
    await copyFile(pki.serverKeyFile, join(dataDir, "server.key"));
    await giveToPostgres(join(dataDir, "server.key"), 0o600);
  }
  await writeHba(dataDir, opts.hba ?? DEFAULT_HBA);
  const conf = join(dataDir, "postgresql.conf");
  await writeFile(conf, "\ninclude 'harness.conf'\n", { flag: "a" });

  const base: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: rootDir,
    ssl: ssl ? "on" : "off",
    ...(ssl ? { ssl_cert_file: "server.crt", ssl_key_file: "server.key" } : {}),
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "50",
  };

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const harnessConf = join(dataDir, "harness.conf");
    await writeFile(harnessConf, confBlock({ ...base, port: String(port), ...opts.settings }));
    await giveToPostgres(harnessConf, 0o600);
    try {
      await runPg("pg_ctl", ["-D", dataDir, "-l", logFile, "-w", "-t", "30", "start"], rootDir);
      break;
    } catch (error) {
      const log = await readFile(logFile, "utf8").catch(() => "");
      if (attempt >= 3 || !/could not bind|Address already in use/i.test(log)) {
        throw new Error(`${(error as Error).message}\n--- server log ---\n${log}`);
      }
    }
  }
  return makeCluster({ rootDir, dataDir, logFile, port, caFile: pki.caFile });
}

interface ClusterFiles {
  rootDir: string;
  dataDir: string;
  logFile: string;
  port: number;
  caFile: string;
}

function makeCluster(files: ClusterFiles): PgCluster {
  const { rootDir, dataDir, logFile, port, caFile } = files;
  const adminConfig: pg.ClientConfig = {
    host: rootDir,
    port,
    user: "postgres",
    database: "postgres",
  };
  const pool = new pg.Pool({ ...adminConfig, max: 2, idleTimeoutMillis: 1_000 });
  pool.on("error", () => {
    // idle admin connections die when the server stops or a test terminates backends
  });
  let stopped: Promise<void> | undefined;

  const admin = async (): Promise<pg.Client> => {
    const client = new pg.Client(adminConfig);
    await client.connect();
    return client;
  };
  const query = (sql: string, params?: unknown[]) => pool.query(sql, params);

  const loadTime = async (): Promise<string> => {
    const client = await admin();
    try {
      const res = await client.query("SELECT pg_conf_load_time()::text AS t");
      return String(res.rows[0]?.t);
    } finally {
      await client.end();
    }
  };

  return {
    host: "127.0.0.1",
    port,
    caFile,
    socketDir: rootDir,
    dataDir,
    logFile,
    admin,
    query,
    async setHba(lines) {
      const previous = await readFile(join(dataDir, "pg_hba.conf"), "utf8");
      await writeHba(dataDir, lines);
      const bad = await query(
        "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL",
      );
      if (bad.rows.length > 0) {
        await writeFile(join(dataDir, "pg_hba.conf"), previous);
        throw new Error(`invalid pg_hba.conf lines: ${JSON.stringify(bad.rows)}`);
      }
      const before = await loadTime();
      await query("SELECT pg_reload_conf()");
      // New backends inherit the postmaster's reload time: once it moves, the new hba is live.
      for (let i = 0; (await loadTime()) === before; i++) {
        if (i >= 500) throw new Error("server did not reload pg_hba.conf within 5 s");
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async createRole(name, opts = {}) {
      const login = opts.login ?? true;
      const password =
        opts.password === undefined ? "" : ` PASSWORD ${pg.escapeLiteral(opts.password)}`;
      await query(
        `CREATE ROLE ${pg.escapeIdentifier(name)} ${login ? "LOGIN" : "NOLOGIN"}${password}`,
      );
    },
    async createDatabase(name, owner) {
      const ownerSql = owner ? ` OWNER ${pg.escapeIdentifier(owner)}` : "";
      await query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${ownerSql}`);
    },
    readLog: () => readFile(logFile, "utf8"),
    stop() {
      stopped ??= (async () => {
        await pool.end().catch(() => undefined);
        await runPg("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"], "/").catch(
          () => undefined,
        );
        untrackCluster(dataDir);
        await rm(rootDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
