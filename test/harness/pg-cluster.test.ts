import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPki, type PgCluster, startPgCluster } from "../support/index.js";

const run = promisify(execFile);

let cluster: PgCluster;
let otherCaDir: string;
let otherCaFile: string;

const PASSWORD = "pw";

function client(user: string, password: string, ssl: pg.ClientConfig["ssl"]): pg.Client {
  return new pg.Client({
    host: cluster.host,
    port: cluster.port,
    database: "postgres",
    user,
    password,
    ssl,
  });
}

async function connectAndEnd(c: pg.Client): Promise<void> {
  await c.connect();
  await c.end();
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once("error", () => resolvePort(false));
  });
}

beforeAll(async () => {
  cluster = await startPgCluster();
  await cluster.createRole("app", { password: PASSWORD });
  otherCaDir = await mkdtemp(join(tmpdir(), "lava-otherca-"));
  otherCaFile = (await createTestPki(otherCaDir, { name: "other" })).caFile;
});

afterAll(async () => {
  await cluster.stop();
  await rm(otherCaDir, { recursive: true, force: true });
});

describe("startPgCluster", () => {
  it("accepts a TLS connection verified against the test CA by IP address", async () => {
    const c = client("app", PASSWORD, {
      ca: readFileSync(cluster.caFile),
      rejectUnauthorized: true,
    });
    await c.connect();
    try {
      const res = await c.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      expect(res.rows[0]?.ssl).toBe(true);
    } finally {
      await c.end();
    }
  });

  it("rejects the server certificate when verifying against a different CA", async () => {
    const c = client("app", PASSWORD, { ca: readFileSync(otherCaFile), rejectUnauthorized: true });
    await expect(c.connect()).rejects.toMatchObject({
      code: expect.stringMatching(/CERT|SIGNATURE|ISSUER/),
    });
    await c.end().catch(() => undefined);
  });

  it("gives the admin superuser access over the unix socket", async () => {
    const admin = await cluster.admin();
    try {
      const res = await admin.query("SELECT current_user AS u, inet_server_addr() AS addr");
      expect(res.rows[0]).toEqual({ u: "postgres", addr: null });
    } finally {
      await admin.end();
    }
    expect((await cluster.query("SELECT $1::int + 1 AS n", [41])).rows[0]?.n).toBe(42);
  });

  it("creates a database owned by a role", async () => {
    await cluster.createDatabase("landing db", "app");
    const res = await cluster.query(
      "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'landing db'",
    );
    expect(res.rows[0]?.owner).toBe("app");
  });

  it("refuses a non-TLS connection once hba rejects hostnossl for the role", async () => {
    await cluster.createRole("tlsonly", { password: PASSWORD });
    await cluster.setHba([
      "hostssl all tlsonly 127.0.0.1/32 scram-sha-256",
      "hostnossl all tlsonly 127.0.0.1/32 reject",
      "host all all 127.0.0.1/32 scram-sha-256",
    ]);
    try {
      await expect(connectAndEnd(client("tlsonly", PASSWORD, false))).rejects.toThrow(
        /pg_hba\.conf rejects/,
      );
      const tls = client("tlsonly", PASSWORD, { ca: readFileSync(cluster.caFile) });
      await expect(connectAndEnd(tls)).resolves.toBeUndefined();
    } finally {
      await cluster.setHba([
        "hostssl all all 127.0.0.1/32 scram-sha-256",
        "host all all 127.0.0.1/32 scram-sha-256",
      ]);
    }
  });

  it("refuses invalid hba lines and keeps the previous rules", async () => {
    await expect(cluster.setHba(["hostssl all all nowhere/99 md5"])).rejects.toThrow(
      /invalid pg_hba/,
    );
    await expect(connectAndEnd(client("app", PASSWORD, false))).resolves.toBeUndefined();
  });

  it("logs in a role whose 1200-character password holds ':', '\\' and quotes", async () => {
    const password = `a:b\\c'd"e ${"x:\\'".repeat(300)}`.slice(0, 1200);
    expect(password.length).toBe(1200);
    await cluster.createRole("longpw", { password });
    await expect(
      connectAndEnd(client("longpw", password, { ca: readFileSync(cluster.caFile) })),
    ).resolves.toBeUndefined();
    await expect(connectAndEnd(client("longpw", `${password}x`, false))).rejects.toThrow(
      /password authentication failed/,
    );
  });

  it("lets psql connect with sslmode=verify-full and the test CA", async () => {
    const conninfo = `host=127.0.0.1 port=${cluster.port} dbname=postgres user=app sslmode=verify-full sslrootcert=${cluster.caFile}`;
    const { stdout } = await run(
      "/usr/bin/psql",
      [conninfo, "-Atc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"],
      {
        env: { ...process.env, PGPASSWORD: PASSWORD, PGCONNECT_TIMEOUT: "10" },
      },
    );
    expect(stdout.trim()).toBe("t");
  });
});

describe("PgCluster.stop", () => {
  it("deletes the data dir, closes the port and can be called twice", async () => {
    const started = Date.now();
    const other = await startPgCluster({
      ssl: false,
      settings: { application_name: "it's \\ fine" },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(other.dataDir)).toBe(true);
    expect(await portOpen(other.port)).toBe(true);
    expect((await other.query("SHOW ssl")).rows[0]?.ssl).toBe("off");
    expect((await other.query("SHOW application_name")).rows[0]?.application_name).toBe(
      "it's \\ fine",
    );
    await other.stop();
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
    expect(existsSync(other.socketDir)).toBe(false);
    expect(await portOpen(other.port)).toBe(false);
  });
});
