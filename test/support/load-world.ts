/**
 * A world for db_from_s3 tests: PostgreSQL 15 with TLS, an S3 server, the
 * SSM stub holding the loader's password, a realm pointing at them, and the
 * real runner with real SDK clients configured through the environment.
 */
import { Signer } from "@aws-sdk/rds-signer";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, vi } from "vitest";
import { type AwsStub, startAwsStub } from "../../bin/cli/local-world/aws-stubs.js";
import { type PgCluster, startPgCluster } from "../../bin/cli/local-world/pg-cluster.js";
import { type LocalS3, startS3 } from "../../bin/cli/local-world/s3.js";
import { rdsTokenSigner } from "../../lambda/connectors/iam-token";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { runJob } from "../../lambda/jobs/run-job";
import type { Dispatch, JobDeps, JobResult, RunOptions } from "../../lambda/jobs/types";
import { s3ClientFactory } from "../../lambda/shared/s3-clients";
import type { Realm } from "../../lambda/spec/realm";
import { validateRealm } from "../../lambda/spec/validate";

/** The loader role's password: holds characters that break naive quoting. */
export const LOADER_PASSWORD = "l0ad:er\\pw'\"x";
export const BUCKET = "landing";
export const DATABASE = "warehouse";

export interface LoadWorld {
  readonly cluster: PgCluster;
  readonly s3: LocalS3;
  readonly aws: AwsStub;
  /** The document of `realm(...)`, unvalidated (to write into a realm file). */
  realmDoc(
    jobs: Record<string, unknown>[],
    connection?: Record<string, unknown>,
    top?: Record<string, unknown>,
  ): Record<string, unknown>;
  /** A realm `dev` with connection `pg` (SSL, SSM password) and the given jobs; `top` adds realm keys. */
  realm(
    jobs: Record<string, unknown>[],
    connection?: Record<string, unknown>,
    top?: Record<string, unknown>,
  ): Realm;
  /** Run a dispatch through the real runner. */
  run(realm: Realm, dispatch: Dispatch, options?: RunOptions): Promise<JobResult>;
  /** Rows of a query in the warehouse database, as the superuser. */
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  deps(): JobDeps;
  /**
   * The IAM auth token the code under test will sign for `user` on this cluster at the
   * current (frozen) time, computed independently with the environment's credentials;
   * set it as the role's password to prove host, port, user and region are signed right.
   */
  iamToken(user: string, region?: string): Promise<string>;
  /** A Secrets Manager secret `name` holding an RDS-style login to the warehouse database. */
  putDbSecret(name: string, user: string, password: string): void;
}

/** A db_from_s3 job spec with defaults that load `key` into `sales.orders` in append mode. */
export function loadJob(
  jobId: string,
  parameters: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    job_id: jobId,
    type: "db_from_s3",
    enabled: true,
    parameters: {
      db_conn_id: "pg",
      bucket: BUCKET,
      schema: "sales",
      mode: "append",
      ...parameters,
    },
    ...extra,
  };
}

/** Start the world for this test file (hooks registered here). */
export function useLoadWorld(): LoadWorld {
  let cluster: PgCluster | undefined;
  let s3: LocalS3 | undefined;
  let aws: AwsStub | undefined;
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("the load world starts in beforeAll");
    return v;
  };
  beforeAll(async () => {
    [cluster, s3, aws] = await Promise.all([
      startPgCluster(),
      startS3({ buckets: [BUCKET] }),
      startAwsStub(),
    ]);
    await cluster.createRole("loader", { password: LOADER_PASSWORD });
    await cluster.createDatabase(DATABASE, "loader");
    await cluster.query(`ALTER DATABASE ${DATABASE} SET timezone TO 'UTC'`);
    await runAsLoader(cluster, "CREATE SCHEMA sales");
    aws.setParameter("/lava/dev/loader", LOADER_PASSWORD, "SecureString", "alias/lava-dev-sys");
  }, 60_000);
  afterAll(async () => {
    await Promise.all([cluster?.stop(), s3?.stop(), aws?.stop()]);
  });
  beforeEach(() => {
    for (const [k, v] of Object.entries({ ...need(aws).env(), ...need(s3).env() }))
      vi.stubEnv(k, v);
  });
  const world: LoadWorld = {
    get cluster() {
      return need(cluster);
    },
    get s3() {
      return need(s3);
    },
    get aws() {
      return need(aws);
    },
    realmDoc(jobs, connection = {}, top = {}) {
      const c = need(cluster);
      const conn = {
        conn_id: "pg",
        type: "postgres",
        enabled: true,
        host: c.host,
        port: c.port,
        database: DATABASE,
        user: "loader",
        password: "/lava/dev/loader",
        ssl: true,
        ...connection,
      };
      return {
        realm: "dev",
        region: "us-east-1",
        ssl_ca_file: c.caFile,
        connections: [conn, ...((top.connections as unknown[]) ?? [])],
        jobs,
        ...Object.fromEntries(Object.entries(top).filter(([k]) => k !== "connections")),
      };
    },
    realm(jobs, connection = {}, top = {}) {
      return validateRealm(world.realmDoc(jobs, connection, top), "realms/dev.yaml");
    },
    iamToken(user, region = "us-east-1") {
      const c = need(cluster);
      return new Signer({
        hostname: c.host,
        port: c.port,
        username: user,
        region,
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID as string,
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY as string,
        },
      }).getAuthToken();
    },
    putDbSecret(name, user, password) {
      const c = need(cluster);
      need(aws).secrets.set(
        name,
        JSON.stringify({ username: user, password, host: c.host, port: c.port, dbname: DATABASE }),
      );
    },
    deps() {
      return {
        resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner(), env: {} },
        s3: s3ClientFactory(),
      };
    },
    run(realm, dispatch, options) {
      return runJob(realm, dispatch, world.deps(), options);
    },
    async rows<T>(sql: string, params?: unknown[]) {
      const client = await superuser(need(cluster));
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
  };
  return world;
}

/** A superuser session on the warehouse database over the cluster's unix socket. */
async function superuser(cluster: PgCluster): Promise<pg.Client> {
  const client = new pg.Client({
    host: cluster.socketDir,
    port: cluster.port,
    user: "postgres",
    database: DATABASE,
  });
  await client.connect();
  return client;
}

async function runAsLoader(cluster: PgCluster, sql: string): Promise<void> {
  const client = await superuser(cluster);
  try {
    await client.query("SET ROLE loader");
    await client.query(sql);
  } finally {
    await client.end();
  }
}
