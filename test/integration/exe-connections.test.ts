/**
 * Payload connections (SPEC §7): `$LAVA_CONN_<L>` runs psql connected, with the
 * password (or a fresh IAM token) only in psql's own environment, asked from
 * the runner's broker over a private socket — never in the payload's env or a file.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { rdsTokenSigner } from "../../lambda/connectors/iam-token";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { startConnectionBroker } from "../../lambda/jobs/exe/connections";
import { LOADER_PASSWORD, useLoadWorld } from "../support/load-world";

const run = promisify(execFile);
const world = useLoadWorld();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lava-broker-"));
  await world.cluster.createRole("iamloader");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.useRealTimers();
});

const QUERY =
  "SELECT current_user, current_setting('application_name'), s.ssl FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()";

/** Run a connector as a payload would: its own env only (no PG*, no secret), extra args to psql. */
async function viaConnector(env: Record<string, string>, label: string, sql: string) {
  const payloadEnv = { PATH: process.env.PATH ?? "", ...env };
  const { stdout } = await run(env[`LAVA_CONN_${label}`] as string, ["-tAc", sql], {
    env: payloadEnv,
  });
  return { stdout, payloadEnv };
}

describe("payload connections", () => {
  it("run psql connected with an SSM password holding : and \\, which is in no env of the payload and no file", async () => {
    // Prepare
    const realm = world.realm([]);
    const brokerDir = join(dir, "pw");
    const broker = await startConnectionBroker({
      realm,
      labels: { db: "pg" },
      applicationName: "lv-dev-ops/report",
      dir: brokerDir,
      resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner(), env: {} },
    });
    try {
      // Act
      const { stdout, payloadEnv } = await viaConnector(broker.env, "DB", QUERY);
      // Assess
      expect(stdout).toBe("loader|lv-dev-ops/report|t\n");
      expect(broker.env).toEqual({
        LAVA_CONN_DB: join(brokerDir, "conn-db"),
        LAVA_CONNID_DB: "pg",
      });
      expect(JSON.stringify(payloadEnv)).not.toContain("l0ad");
      for (const file of await readdir(brokerDir)) {
        if (file.endsWith(".sock")) continue;
        expect(await readFile(join(brokerDir, file), "utf8")).not.toContain("l0ad");
      }
      expect((await stat(join(brokerDir, "broker.sock"))).mode & 0o777).toBe(0o600);
      expect((await stat(brokerDir)).mode & 0o777).toBe(0o700);
      expect(LOADER_PASSWORD).toContain(":");
    } finally {
      await broker.close();
    }
    await expect(stat(brokerDir)).rejects.toThrow();
  });

  it("connect to the connection's server with verify-full whatever PG* variables and PATH the payload sets", async () => {
    // Prepare: a payload environment that tries to redirect the connector's psql and its password.
    const realm = world.realm([]);
    const fakeBin = join(dir, "fake-bin");
    await mkdir(fakeBin);
    await writeFile(join(fakeBin, "psql"), '#!/bin/sh\necho "fake psql $PGPASSWORD"\n', {
      mode: 0o755,
    });
    const broker = await startConnectionBroker({
      realm,
      labels: { db: "pg" },
      applicationName: "lv-dev-ops/redirect",
      dir: join(dir, "redirect"),
      resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner(), env: {} },
    });
    try {
      // Act
      const { stdout } = await viaConnector(
        {
          ...broker.env,
          PATH: `${fakeBin}:${process.env.PATH ?? ""}`,
          PGHOSTADDR: "127.0.0.2",
          PGSSLMODE: "disable",
          PGOPTIONS: "-c search_path=evil",
          PGPASSFILE: join(dir, "no-such-pgpass"),
          PGSERVICE: "evil",
          PGCONNECT_TIMEOUT: "2",
        },
        "DB",
        `${QUERY.replace(", s.ssl", ", s.ssl, current_setting('search_path')")}`,
      );
      // Assess
      expect(stdout).toBe('loader|lv-dev-ops/redirect|t|"$user", public\n');
    } finally {
      await broker.close();
    }
  });

  it("give each psql start a freshly signed IAM token (host, port, user and region signed right)", async () => {
    // Prepare: a frozen clock makes the token reproducible; it is the role's password.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-06-01T12:00:00Z"));
    const token = await world.iamToken("iamloader");
    await world.rows(`ALTER ROLE iamloader PASSWORD '${token.replace(/'/g, "''")}'`);
    await world.rows("GRANT CONNECT ON DATABASE warehouse TO iamloader");
    const realm = world.realm([], {
      conn_id: "pg",
      type: "postgres-aurora",
      user: "iamloader",
      password: undefined,
    });
    const broker = await startConnectionBroker({
      realm,
      labels: { wh: "pg" },
      applicationName: "lv-dev-ops/iam",
      dir: join(dir, "iam"),
      resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner(), env: {} },
    });
    try {
      // Act
      const { stdout, payloadEnv } = await viaConnector(broker.env, "WH", "SELECT current_user");
      // Assess
      expect(stdout).toBe("iamloader\n");
      expect(JSON.stringify(payloadEnv)).not.toContain(token.slice(-40));
    } finally {
      await broker.close();
    }
  });

  it("refuse an unknown connection before any payload runs", async () => {
    const realm = world.realm([]);
    await expect(
      startConnectionBroker({
        realm,
        labels: { db: "nope" },
        applicationName: "x",
        dir: join(dir, "bad"),
        resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner(), env: {} },
      }),
    ).rejects.toThrow("connection nope: not defined in realm dev");
  });
});
