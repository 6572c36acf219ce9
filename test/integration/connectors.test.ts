/**
 * Connection resolution end to end: real PostgreSQL 15 with TLS from a test CA,
 * real AWS SDK clients against the local SSM / Secrets Manager stub, IAM tokens
 * made deterministic by freezing the clock.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Signer } from "@aws-sdk/rds-signer";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { jobApplicationName } from "../../lambda/connectors/app-name";
import { rdsTokenSigner } from "../../lambda/connectors/iam-token";
import { connectPg } from "../../lambda/connectors/pg-client";
import { pgpassEscape } from "../../lambda/connectors/psql";
import { type ResolveDeps, resolveDbConnection } from "../../lambda/connectors/resolve-connection";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { DatabaseConnectError } from "../../lambda/shared/errors";
import { validateRealm } from "../../lambda/spec/validate";
import { CLI, runCli } from "../support/cli";
import {
  type AwsStub,
  createTestPki,
  type PgCluster,
  startAwsStub,
  startPgCluster,
} from "../support/index";

const REGION = "us-east-1";
const PW_PASSWORD = "p:ss\\w0rd'x";
const SECRET_PASSWORD = "from-the-secret:1";

let cluster: PgCluster;
let stub: AwsStub;
let dir: string;
let otherCa: string;

/** A validated realm `dev` whose connections point at the test cluster. */
function realm(connections: Record<string, unknown>[], top: Record<string, unknown> = {}) {
  const doc = { realm: "dev", region: REGION, ssl_ca_file: cluster.caFile, connections, ...top };
  return validateRealm(doc, "realms/dev.yaml");
}

function pgConn(connId: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    conn_id: connId,
    type: "postgres",
    enabled: true,
    host: cluster.host,
    port: cluster.port,
    database: "postgres",
    ...extra,
  };
}

function deps(env: NodeJS.ProcessEnv = {}): ResolveDeps {
  return { store: new AwsSecretStore(), signToken: rdsTokenSigner(), env };
}

/** What the session looks like from the server's side. */
async function whoAmI(connId: string, r: ReturnType<typeof realm>, d = deps()) {
  const client = await connectPg(
    await resolveDbConnection(r, connId, d),
    jobApplicationName("dev", "sales/load"),
  );
  try {
    const res = await client.query(
      "SELECT current_user AS user, current_setting('application_name') AS app, s.ssl FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()",
    );
    return res.rows[0] as { user: string; app: string; ssl: boolean };
  } finally {
    await client.end();
  }
}

/** The token AWS would expect, computed independently of the code under test. */
function expectedToken(
  user: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region = REGION,
) {
  return new Signer({
    hostname: cluster.host,
    port: cluster.port,
    username: user,
    region,
    credentials,
  }).getAuthToken();
}

beforeAll(async () => {
  cluster = await startPgCluster({
    hba: [
      "hostssl all tlsonly 127.0.0.1/32 scram-sha-256",
      "hostnossl all tlsonly 127.0.0.1/32 reject",
      "hostssl all all 127.0.0.1/32 scram-sha-256",
      "host all all 127.0.0.1/32 scram-sha-256",
    ],
  });
  stub = await startAwsStub();
  dir = await mkdtemp(join(tmpdir(), "lava-conn-"));
  otherCa = (await createTestPki(dir, { name: "other" })).caFile;
  await cluster.createRole("pwuser", { password: PW_PASSWORD });
  await cluster.createRole("secuser", { password: SECRET_PASSWORD });
  await cluster.createRole("tlsonly", { password: "tls-pw" });
  await cluster.createRole("iamuser");
  await cluster.createRole("iamlong");
  stub.setParameter("/lava/dev/pwuser", PW_PASSWORD, "SecureString", "alias/lava-dev-sys");
  stub.setParameter("/lava/dev/tlsonly", "tls-pw", "SecureString");
  stub.secrets.set(
    "/lava/dev/secuser",
    JSON.stringify({
      username: "secuser",
      password: SECRET_PASSWORD,
      host: cluster.host,
      port: cluster.port,
      dbname: "postgres",
    }),
  );
});

afterAll(async () => {
  await cluster?.stop();
  await stub?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const [k, v] of Object.entries(stub.env())) vi.stubEnv(k, v);
  vi.stubEnv("AWS_SESSION_TOKEN", undefined);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("connections over verified TLS", () => {
  it("connects with an SSM SecureString password, read with decryption", async () => {
    // Prepare
    const r = realm([pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true })]);
    // Act
    const me = await whoAmI("pw", r);
    // Assess
    expect(me).toEqual({ user: "pwuser", app: "lv-dev-sales/load", ssl: true });
    const reads = stub.callsTo("ssm", "GetParameter");
    expect(reads.at(-1)?.body).toMatchObject({ Name: "/lava/dev/pwuser", WithDecryption: true });
  });

  it("connects with everything but the database from a Secrets Manager secret", async () => {
    const r = realm([
      {
        conn_id: "sec",
        type: "postgres-aurora",
        enabled: true,
        secret_id: "/lava/dev/secuser",
        ssl: true,
      },
    ]);
    expect(await whoAmI("sec", r)).toMatchObject({ user: "secuser", ssl: true });
  });

  it("connects with an IAM token signed for host, port, user and region", async () => {
    // Prepare: freeze the clock so the token is reproducible, and make it the role's password.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-06-01T12:00:00Z"));
    const token = await expectedToken("iamuser", {
      accessKeyId: "AKIDTEST",
      secretAccessKey: "test-secret",
    });
    await cluster.query(`ALTER ROLE iamuser PASSWORD ${escapeLiteral(token)}`);
    const r = realm([{ ...pgConn("iam", { user: "iamuser" }), type: "postgres-aurora" }]);
    // Act
    const resolved = await resolveDbConnection(r, "iam", deps());
    const me = await whoAmI("iam", r);
    // Assess
    expect(resolved.auth).toBe("iam");
    expect(me).toMatchObject({ user: "iamuser", ssl: true });
    expect(stub.calls.filter((c) => c.service !== "sts")).not.toContainEqual(
      expect.objectContaining({ op: "GenerateDBAuthToken" }),
    );
  });

  it("is refused when the token was signed for another region", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-06-01T12:00:00Z"));
    const token = await expectedToken(
      "iamuser",
      { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
      "eu-west-1",
    );
    await cluster.query(`ALTER ROLE iamuser PASSWORD ${escapeLiteral(token)}`);
    const r = realm([{ ...pgConn("iam", { user: "iamuser" }), type: "postgres-aurora" }]);
    const err = await whoAmI("iam", r).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConnectError);
    expect((err as DatabaseConnectError).code).toBe("28P01");
    expect((err as Error).message).not.toContain(token.slice(-40));
  });

  it("refuses a hostssl-only role without TLS, and accepts it with TLS", async () => {
    const plain = realm([
      pgConn("t", { user: "tlsonly", password: "/lava/dev/tlsonly", ssl: false }),
    ]);
    const err = await whoAmI("t", plain).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConnectError);
    expect((err as Error).message).toMatch(
      /^connection t: cannot connect to 127\.0\.0\.1:\d+\/postgres as tlsonly: .*pg_hba\.conf rejects/,
    );
    expect((err as DatabaseConnectError).retryable).toBe(false);
    const tls = realm([pgConn("t", { user: "tlsonly", password: "/lava/dev/tlsonly", ssl: true })]);
    expect(await whoAmI("t", tls)).toMatchObject({ user: "tlsonly", ssl: true });
  });

  it("fails verification against the wrong CA", async () => {
    const r = realm([pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true })], {
      ssl_ca_file: otherCa,
    });
    const err = await whoAmI("pw", r).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConnectError);
    expect(((err as Error).cause as { code?: string }).code).toMatch(
      /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/,
    );
  });

  it("uses NODE_EXTRA_CA_CERTS when the realm names no CA bundle", async () => {
    const r = realm([pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true })], {
      ssl_ca_file: undefined,
    });
    const me = await whoAmI("pw", r, deps({ NODE_EXTRA_CA_CERTS: cluster.caFile }));
    expect(me.ssl).toBe(true);
  });

  it("reports a refused port as a retryable connection error", async () => {
    const r = realm([pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", port: 1 })]);
    const err = await whoAmI("pw", r).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseConnectError);
    expect((err as DatabaseConnectError).retryable).toBe(true);
  });
});

describe("lava-aurora psql", () => {
  async function realmFile(name: string, connections: Record<string, unknown>[]): Promise<string> {
    const file = join(dir, `${name}.yaml`);
    const doc = { realm: "dev", region: REGION, ssl_ca_file: cluster.caFile, connections };
    await writeFile(file, JSON.stringify(doc));
    return file;
  }

  const QUERY =
    "SELECT current_user, current_setting('application_name'), s.ssl FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()";

  it("connects with a password holding : and \\ through a pgpass file that it removes", async () => {
    // Prepare
    const file = await realmFile("psql-pw", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true }),
    ]);
    const tmp = await mkdtemp(join(dir, "tmp-"));
    // Act
    const r = await runCli(["psql", "pw", "--realm-file", file, "--", "-tAc", QUERY], {
      env: { ...stub.env(), TMPDIR: tmp, PGPASSWORD: undefined },
    });
    // Assess
    expect(r.stdout).toBe("pwuser|lv-dev-psql-pw|t\n");
    expect(r.code).toBe(0);
    expect(await readdir(tmp)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(PW_PASSWORD);
  });

  it("connects to the connection's server with verify-full whatever PG* variables the caller's environment holds", async () => {
    // Prepare
    const file = await realmFile("psql-redirect", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true }),
    ]);
    // Act
    const r = await runCli(
      [
        "psql",
        "pw",
        "--realm-file",
        file,
        "--",
        "-tAc",
        QUERY.replace(
          " FROM",
          ", current_setting('search_path'), current_setting('TimeZone') <> 'Pacific/Chatham' FROM",
        ),
      ],
      {
        env: {
          ...stub.env(),
          PGHOSTADDR: "127.0.0.2",
          PGSSLMODE: "disable",
          PGOPTIONS: "-c search_path=evil",
          PGSERVICE: "evil",
          PGPASSFILE: join(dir, "no-such-pgpass"),
          PGTZ: "Pacific/Chatham",
          PGCONNECT_TIMEOUT: "2",
        },
      },
    );
    // Assess
    expect(r.stderr).not.toContain("psql:");
    expect(r.stdout).toBe('pwuser|lv-dev-psql-pw|t|"$user", public|t\n');
    expect(r.code).toBe(0);
  });

  it("leaves no file holding the password, nor psql running, when the CLI is SIGKILLed mid-session", async () => {
    // Prepare
    const file = await realmFile("psql-kill", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true }),
    ]);
    const tmp = await mkdtemp(join(dir, "tmp-"));
    // The server notices a vanished client during pg_sleep only when it checks.
    await cluster.query("ALTER ROLE pwuser SET client_connection_check_interval = '100ms'");
    const cli = spawn(
      process.execPath,
      [CLI, "psql", "pw", "--realm-file", file, "--", "-tAc", "SELECT pg_sleep(60)"],
      { env: { ...process.env, ...stub.env(), TMPDIR: tmp }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const cliExit = new Promise((ok) => cli.once("exit", ok));
    let psqlPid: number | undefined;
    try {
      await waitFor(async () => (await sessions("lv-dev-psql-pw", "pg_sleep")) === 1);
      psqlPid = childrenOf(cli.pid as number, "psql")[0];
      expect(psqlPid).toBeGreaterThan(0);
      // While psql runs, the pgpass is already gone from the file system.
      expect(await filesHolding(tmp, PW_PASSWORD)).toEqual([]);
      // Act
      cli.kill("SIGKILL");
      await cliExit;
      // Assess
      await waitFor(async () => processGone(psqlPid as number));
      await waitFor(async () => (await sessions("lv-dev-psql-pw", "pg_sleep")) === 0);
      expect(await filesHolding(tmp, PW_PASSWORD)).toEqual([]);
    } finally {
      cli.kill("SIGKILL");
      if (psqlPid && !processGone(psqlPid)) process.kill(psqlPid, "SIGKILL");
      await cluster.query("ALTER ROLE pwuser RESET client_connection_check_interval");
    }
  });

  it("reconnects within the session (\\c) with the pgpass already unlinked", async () => {
    const file = await realmFile("psql-reconnect", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true }),
    ]);
    const args = [
      "-tA",
      "-c",
      "SELECT pg_backend_pid()",
      "-c",
      "\\c",
      "-c",
      "SELECT pg_backend_pid()",
    ];
    const r = await runCli(["psql", "pw", "--realm-file", file, "--", "-w", ...args], {
      env: stub.env(),
    });
    expect(r.code).toBe(0);
    // -w: never prompt; a second backend pid is a second connection, its password from the pgpass.
    const [first, second] = r.stdout.trim().split("\n");
    expect(Number(first)).toBeGreaterThan(0);
    expect(Number(second)).toBeGreaterThan(0);
    expect(second).not.toBe(first);
  });

  it("removes a dead CLI's leftover private directory at the next start, and keeps a live one's", async () => {
    // Prepare: what a SIGKILLed CLI could leave, under a pid that is gone, and one of a live pid.
    const file = await realmFile("psql-sweep", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true }),
    ]);
    const tmp = await mkdtemp(join(dir, "tmp-"));
    const deadPid = spawnSync("true").pid;
    const dead = join(tmp, `lava-psql-${deadPid}-AbC123`);
    const live = join(tmp, `lava-psql-${process.pid}-XyZ789`);
    for (const d of [dead, live]) {
      await mkdir(d, { mode: 0o700 });
      await writeFile(join(d, "pgpass"), `*:*:*:pwuser:${PW_PASSWORD}\n`, { mode: 0o600 });
    }
    expect(processGone(deadPid)).toBe(true);
    // Act
    const r = await runCli(["psql", "pw", "--realm-file", file, "--", "-tAc", "SELECT 1"], {
      env: { ...stub.env(), TMPDIR: tmp },
    });
    // Assess
    expect(r.stdout).toBe("1\n");
    expect(r.code).toBe(0);
    expect(await readdir(tmp)).toEqual([`lava-psql-${process.pid}-XyZ789`]);
  });

  it("passes psql's exit status through", async () => {
    const file = await realmFile("psql-exit", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", ssl: true }),
    ]);
    const script = join(dir, "fails.sql");
    await writeFile(script, "SELECT 1;\nSELECT 1/0;\n");
    // psql exits 3 when a script fails under ON_ERROR_STOP: a status only psql gives.
    const r = await runCli(["psql", "pw", "--realm-file", file, "--", "-f", script], {
      env: stub.env(),
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("division by zero");
  });

  it("connects with a ~1.2 KB IAM token carried in PGPASSWORD (clock frozen in both processes)", async () => {
    // Prepare: session credentials make the token long; the same frozen second on both sides.
    const sessionToken = `FQoGZXIvYXdzE${"A".repeat(820)}`;
    const creds = { accessKeyId: "ASIATEST", secretAccessKey: "session-secret", sessionToken };
    const frozen = new Date(Math.floor(Date.now() / 1000) * 1000);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(frozen);
    const token = await expectedToken("iamlong", creds);
    vi.useRealTimers();
    expect(token.length).toBeGreaterThan(1100);
    await cluster.query(`ALTER ROLE iamlong PASSWORD ${escapeLiteral(token)}`);
    const file = await realmFile("psql-iam", [
      { ...pgConn("iam", { user: "iamlong" }), type: "postgres-aurora" },
    ]);
    // Act
    const r = await runCli(["psql", "iam", "--realm-file", file, "--", "-tAc", QUERY], {
      frozenAt: frozen,
      env: {
        ...stub.env(),
        AWS_ACCESS_KEY_ID: creds.accessKeyId,
        AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
        AWS_SESSION_TOKEN: sessionToken,
      },
    });
    // Assess
    expect(r.stderr).not.toContain(token.slice(-64));
    expect(r.stdout).toBe("iamlong|lv-dev-psql-iam|t\n");
    expect(r.code).toBe(0);
  });

  it("exits 1 naming the connection when it cannot be resolved", async () => {
    const file = await realmFile("psql-missing", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/nope", ssl: true }),
    ]);
    const r = await runCli(["psql", "pw", "--realm-file", file], { env: stub.env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot read SSM parameter /lava/dev/nope: not found");
  });

  it("exits 1 for a disabled connection", async () => {
    const file = await realmFile("psql-off", [
      pgConn("pw", { user: "pwuser", password: "/lava/dev/pwuser", enabled: false }),
    ]);
    const r = await runCli(["psql", "pw", "--realm-file", file], { env: stub.env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("connection pw: disabled (enabled: false)");
  });
});

/** Sessions of `app` whose query mentions `text`. */
async function sessions(app: string, text: string): Promise<number> {
  const res = await cluster.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND strpos(query, $2) > 0",
    [app, text],
  );
  return (res.rows[0] as { n: number }).n;
}

/** Poll `check` every 50 ms for up to 10 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${check.toString()}`);
    await sleep(50);
  }
}

/** Pids of the live children of `parent` named `comm`, by /proc. */
function childrenOf(parent: number, comm: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (name === comm && Number(ppid) === parent && state !== "Z") pids.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Whether a process is gone (a zombie counts as gone). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

/** Files under `root` (recursively) whose content holds `secret`, as it is or escaped for pgpass. */
async function filesHolding(root: string, secret: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const text = await readFile(path, "utf8");
    if (text.includes(secret) || text.includes(pgpassEscape(secret))) found.push(path);
  }
  return found;
}

function escapeLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
