/**
 * The demo's throwaway world, from the test harness: PostgreSQL with TLS from a fresh test CA
 * (as the `postgres` OS user when run as root), a local S3 server, the SSM stub, the aws_s3
 * stand-in, and a realm file pointing at them. Everything lives under os.tmpdir() and goes
 * away with {@link DemoWorld.stop}, or on process exit if stop never ran.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { stringify } from "yaml";
import { installAwsS3Standin } from "../local-world/aws-s3-standin";
import { type AwsStub, startAwsStub } from "../local-world/aws-stubs";
import { type PgCluster, startPgCluster } from "../local-world/pg-cluster";
import { type LocalS3, startS3 } from "../local-world/s3";
import { LANDING, TEMP_BUCKET } from "./data";
import type { ShownTable } from "./print";
import { DATABASE, DEMO_REALM, demoRealmDoc, LOADER, SCHEMA } from "./realm-doc";

/** A running demo world. */
export interface DemoWorld {
  readonly cluster: PgCluster;
  readonly s3: LocalS3;
  readonly aws: AwsStub;
  /** `SHOW server_version`. */
  readonly serverVersion: string;
  /** The realm file (YAML) in the world's private temp directory. */
  readonly realmFile: string;
  /** The loader role's password (random; stored in SSM by the story, never printed). */
  readonly loaderPassword: string;
  /** The AWS_* variables that point SDK clients at the local S3 server and the SSM stub. */
  readonly env: Readonly<Record<string, string>>;
  /** `schema.table` as the superuser sees it: every value as text, rows in column-1 order. */
  table(name: string): Promise<ShownTable & { exists: boolean }>;
  /** Rows of a query in the demo database, as the superuser, every value as text. */
  rows(sql: string, params?: unknown[]): Promise<Record<string, string | null>[]>;
  /** Stops every server and deletes every file; safe to call twice. */
  stop(): Promise<void>;
}

// Every value as PostgreSQL's text, so dates and numerics print as stored.
const AS_TEXT = { getTypeParser: () => (value: string) => value };

type Started = { cluster?: PgCluster; s3?: LocalS3; aws?: AwsStub };

async function stopAll(s: Started, dir: string | undefined, db?: pg.Client): Promise<void> {
  await db?.end().catch(() => undefined);
  await Promise.all([s.cluster?.stop(), s.s3?.stop(), s.aws?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Starts the world; on any failure stops what had started and rethrows. */
export async function startDemoWorld(): Promise<DemoWorld> {
  const started: Started = {};
  let dir: string | undefined;
  let db: pg.Client | undefined;
  // The harness stops clusters on exit; the realm dir and s3rver's files are ours to catch.
  const onExit = () => {
    for (const d of [dir, started.s3?.directory])
      if (d) rmSync(d, { recursive: true, force: true });
  };
  process.on("exit", onExit);
  try {
    const [cluster, s3, aws] = await Promise.all([
      // TLS only: a load that connects at all has negotiated TLS; the log shows the details.
      startPgCluster({
        hba: ["hostssl all all 127.0.0.1/32 scram-sha-256"],
        settings: { log_connections: "on" },
      }).then((c) => (started.cluster = c)),
      startS3({ buckets: [LANDING, TEMP_BUCKET] }).then((s) => (started.s3 = s)),
      startAwsStub().then((a) => (started.aws = a)),
    ]);
    dir = await mkdtemp(join(tmpdir(), "lava-demo-"));
    const loaderPassword = randomBytes(18).toString("base64url");
    await cluster.createRole(LOADER, { password: loaderPassword });
    await cluster.createDatabase(DATABASE, LOADER);
    await cluster.query(`ALTER DATABASE ${DATABASE} SET timezone TO 'UTC'`);
    await installAwsS3Standin(cluster, DATABASE, s3.endpoint);
    db = new pg.Client({
      host: cluster.socketDir,
      port: cluster.port,
      user: "postgres",
      database: DATABASE,
      types: AS_TEXT,
    });
    await db.connect();
    await db.query(`CREATE SCHEMA ${SCHEMA} AUTHORIZATION ${LOADER}`);
    const version = String((await db.query("SHOW server_version")).rows[0]?.server_version);
    const serverVersion = version.split(" ")[0] ?? version;
    const realmFile = join(dir, `${DEMO_REALM}.yaml`);
    const header =
      "# The lava-aurora demo realm, written by `lava-aurora demo` for its throwaway world.\n";
    await writeFile(realmFile, header + stringify(demoRealmDoc(cluster)));
    const client = db;
    const rows = async (sql: string, params?: unknown[]) =>
      (await client.query(sql, params)).rows as Record<string, string | null>[];
    const worldDir = dir;
    let stopped: Promise<void> | undefined;
    return {
      cluster,
      s3,
      aws,
      serverVersion,
      realmFile,
      loaderPassword,
      env: { ...aws.env(), ...s3.env() },
      rows,
      async table(name) {
        const exists =
          (await rows("SELECT to_regclass($1::text) IS NOT NULL AS e", [name]))[0]?.e === "t";
        if (!exists) return { name, exists, columns: [], rows: [] };
        const res = await client.query({
          text: `SELECT * FROM ${name} ORDER BY 1`,
          rowMode: "array",
        });
        return {
          name,
          exists,
          columns: res.fields.map((f) => f.name),
          rows: res.rows as (string | null)[][],
        };
      },
      stop() {
        stopped ??= stopAll(started, worldDir, client).finally(() => process.off("exit", onExit));
        return stopped;
      },
    };
  } catch (err) {
    await stopAll(started, dir, db);
    process.off("exit", onExit);
    throw err;
  }
}
