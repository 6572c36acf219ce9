/**
 * Payload connections (docs/exe-pkg.md §5): `$LAVA_CONN_<L>` runs psql connected, with the
 * password (or a fresh IAM token) only in psql's own environment, asked from
 * the runner's broker over a private socket — never in the payload's env or a file.
 * For an aws connection it runs the AWS CLI (the runner's, found on its PATH)
 * with the connection's credentials in the CLI's environment only.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { rdsTokenSigner } from "../../lambda/connectors/iam-token";
import { AwsSecretStore } from "../../lambda/connectors/secret-store";
import { startConnectionBroker } from "../../lambda/jobs/exe/connections";
import type { JobResult } from "../../lambda/jobs/types";
import { assumeRoleRequest } from "../support/index";
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

/** Access keys of the aws connection `keys` (SSM SecureString `/lava/dev/keys`). */
const KEY_ID = "AKIAPAYLOADKEYS00001";
const KEY_SECRET = "keys-Secret/For+Payload";
const EXTERNAL_ID = "partner-ext-7731";
const AWS_CONNECTIONS = [
  {
    conn_id: "keys",
    type: "aws",
    enabled: true,
    access_keys: "/lava/dev/keys",
    region: "ap-southeast-2",
  },
  {
    conn_id: "role",
    type: "aws",
    enabled: true,
    role_arn: "arn:aws:iam::123456789012:role/partner",
    external_id: "/lava/dev/partner-ext",
    tags: { project: "sales" },
  },
];

/**
 * A fake AWS CLI: prints the AWS_* variables it got and its arguments, one a
 * line. `who` tells the runner's from one a payload could put on its own PATH.
 */
async function fakeAws(bin: string, who: string): Promise<void> {
  await mkdir(bin, { recursive: true });
  await writeFile(
    join(bin, "aws"),
    `#!/bin/sh\necho "${who} aws"\nenv | grep '^AWS_' | LC_ALL=C sort\nfor a in "$@"; do echo "arg: $a"; done\n`,
    { mode: 0o755 },
  );
}

describe("payload aws connections", () => {
  let runnerBin: string;

  beforeAll(async () => {
    runnerBin = join(dir, "runner-bin");
    await fakeAws(runnerBin, "runner's");
  });

  beforeEach(() => {
    world.aws.setParameter("/lava/dev/keys", `${KEY_ID},${KEY_SECRET}`, "SecureString");
    world.aws.setParameter("/lava/dev/partner-ext", EXTERNAL_ID, "SecureString");
    world.aws.calls.length = 0;
    vi.stubEnv("PATH", `${runnerBin}:${process.env.PATH ?? ""}`);
  });

  async function awsBroker(name: string, labels: Record<string, string>) {
    return startConnectionBroker({
      realm: world.realm([], {}, { connections: AWS_CONNECTIONS }),
      labels,
      applicationName: "lv-dev-ops/aws report",
      dir: join(dir, name),
      resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner(), env: {} },
    });
  }

  it("run the runner's AWS CLI with the access keys and region in its environment only, arguments passed through", async () => {
    // Prepare: a payload environment with its own aws on PATH and AWS_* settings of its own
    const payloadBin = join(dir, "payload-bin");
    await fakeAws(payloadBin, "payload's");
    const brokerDir = join(dir, "aws-keys");
    const broker = await awsBroker("aws-keys", { aws1: "keys" });
    try {
      const payloadEnv = {
        ...broker.env,
        PATH: `${payloadBin}:${process.env.PATH ?? ""}`,
        AWS_ACCESS_KEY_ID: "AKIAPAYLOADOWN000001",
        AWS_PROFILE: "elsewhere",
        AWS_CONFIG_FILE: join(dir, "payload-aws-config"),
        AWS_ENDPOINT_URL: "http://127.0.0.9:1",
      };
      // Act
      const { stdout } = await run(
        broker.env.LAVA_CONN_AWS1 as string,
        ["s3", "cp", "s3://landing/a b.csv", "-"],
        { env: payloadEnv },
      );
      // Assess
      expect(stdout).toBe(
        [
          "runner's aws",
          `AWS_ACCESS_KEY_ID=${KEY_ID}`,
          "AWS_CONFIG_FILE=/dev/null",
          "AWS_DEFAULT_REGION=ap-southeast-2",
          "AWS_REGION=ap-southeast-2",
          `AWS_SECRET_ACCESS_KEY=${KEY_SECRET}`,
          "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
          "arg: s3",
          "arg: cp",
          "arg: s3://landing/a b.csv",
          "arg: -",
          "",
        ].join("\n"),
      );
      expect(broker.env).toEqual({
        LAVA_CONN_AWS1: join(brokerDir, "conn-aws1"),
        LAVA_CONNID_AWS1: "keys",
      });
      for (const file of await readdir(brokerDir)) {
        if (file.endsWith(".sock")) continue;
        expect(await readFile(join(brokerDir, file), "utf8")).not.toContain(KEY_SECRET);
      }
    } finally {
      await broker.close();
    }
  });

  it("give each AWS CLI start the role's session credentials (session token, realm region), assumed once with the job's session name", async () => {
    // Prepare
    const broker = await awsBroker("aws-role", { partner: "role" });
    try {
      // Act
      const first = await run(
        broker.env.LAVA_CONN_PARTNER as string,
        ["sts", "get-caller-identity"],
        {
          env: { PATH: process.env.PATH ?? "", ...broker.env },
        },
      );
      const second = await run(broker.env.LAVA_CONN_PARTNER as string, [], {
        env: { PATH: process.env.PATH ?? "", ...broker.env },
      });
      // Assess
      const creds = world.aws.sts.credentials;
      for (const out of [first.stdout, second.stdout]) {
        expect(out).toContain(`AWS_ACCESS_KEY_ID=${creds.accessKeyId}\n`);
        expect(out).toContain(`AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}\n`);
        expect(out).toContain(`AWS_SESSION_TOKEN=${creds.sessionToken}\n`);
        expect(out).toContain("AWS_REGION=us-east-1\n");
      }
      expect(first.stdout).toContain("arg: sts\narg: get-caller-identity\n");
      const assumed = world.aws.callsTo("sts", "AssumeRole").map((c) => assumeRoleRequest(c.body));
      expect(assumed).toMatchObject([
        {
          roleSessionName: "lv-dev-ops.aws.report",
          externalId: EXTERNAL_ID,
          tags: [{ key: "project", value: "sales" }],
        },
      ]);
    } finally {
      await broker.close();
    }
  });

  it("refuse, before any payload runs, an aws connection whose credentials cannot be read", async () => {
    world.aws.ssm.delete("/lava/dev/keys");
    await expect(awsBroker("aws-missing", { aws1: "keys" })).rejects.toThrow(
      "cannot read SSM parameter /lava/dev/keys: not found",
    );
  });

  it("fail the connector with a clear message when the runner has no AWS CLI", async () => {
    // Prepare
    const broker = await awsBroker("aws-nocli", { aws1: "keys" });
    vi.stubEnv("PATH", "/nonexistent");
    try {
      // Act
      const err = await run(process.execPath, [broker.env.LAVA_CONN_AWS1 as string, "s3", "ls"], {
        env: { ...broker.env },
      }).catch((e: { code: number; stderr: string }) => e);
      // Assess
      expect(err).toMatchObject({
        code: 2,
        stderr: "lava-aurora connector: the AWS CLI (aws) is not on the runner's PATH\n",
      });
    } finally {
      await broker.close();
    }
  });

  it("serve an exe payload: $LAVA_CONN_AWS1 has the connection's keys, the payload's own environment none, nor the runner's", async () => {
    // Prepare
    await world.s3.createBucket("payloads").catch(() => undefined);
    await world.s3.createBucket("lava-temp").catch(() => undefined);
    await world.s3.put(
      "payloads",
      "dev/aws-cli-conn.sh",
      `#!/bin/bash
set -e
$LAVA_CONN_AWS1 sts get-caller-identity
$LAVA_CONN_AWS2 s3 ls
env > "$LAVA_ENV_DUMP"
`,
    );
    const dump = join(dir, "aws-payload-env");
    const realm = world.realm(
      [
        {
          job_id: "aws-cli-example",
          type: "exe",
          enabled: true,
          payload: "aws-cli-conn.sh",
          parameters: {
            connections: { aws1: "keys", aws2: "role" },
            env: { LAVA_ENV_DUMP: dump },
          },
        },
      ],
      {},
      {
        s3_payloads: "s3://payloads/dev",
        s3_temp: "s3://lava-temp/dev",
        connections: AWS_CONNECTIONS,
      },
    );
    // Act
    const r: JobResult = await world.run(realm, { job_id: "aws-cli-example" });
    // Assess
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    const out = (await world.s3.get("lava-temp", `dev/${r.job_id}/${r.run_id}/stdout`)).toString(
      "utf8",
    );
    expect(out).toContain(`AWS_ACCESS_KEY_ID=${KEY_ID}\n`);
    expect(out).toContain("arg: sts\narg: get-caller-identity\n");
    expect(out).toContain(`AWS_SESSION_TOKEN=${world.aws.sts.credentials.sessionToken}\n`);
    expect(out).toContain("arg: s3\narg: ls\n");
    const env = await readFile(dump, "utf8");
    expect(env).toContain("LAVA_CONNID_AWS1=keys\n");
    expect(env).toContain("LAVA_CONNID_AWS2=role\n");
    expect(env).not.toMatch(/^AWS_/m);
    for (const secret of [
      KEY_SECRET,
      KEY_ID,
      world.aws.sts.credentials.secretAccessKey,
      world.aws.sts.credentials.sessionToken,
      world.aws.env().AWS_SECRET_ACCESS_KEY as string,
      world.aws.env().AWS_ACCESS_KEY_ID as string,
      EXTERNAL_ID,
    ])
      expect(env).not.toContain(secret);
  });
});
