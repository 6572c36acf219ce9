/**
 * exe jobs end to end with real connections (docs/exe-pkg.md §5; docs/connections.md §9): a payload script uses
 * `$LAVA_CONN_<L>` — SSM password with `:` and `\`, and an IAM token — and its
 * own environment holds no secret.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { JobResult } from "../../lambda/jobs/types";
import { LOADER_PASSWORD, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const TOP = { s3_payloads: "s3://payloads/dev", s3_temp: "s3://lava-temp/dev" };

beforeAll(async () => {
  await world.s3.createBucket("payloads");
  await world.s3.createBucket("lava-temp");
  await world.cluster.createRole("iamrunner");
  await world.rows("GRANT CONNECT ON DATABASE warehouse TO iamrunner");
});

afterEach(() => {
  vi.useRealTimers();
});

/** A payload that queries through $LAVA_CONN_DB and dumps its own environment. */
const SCRIPT = `#!/bin/sh
set -e
"$LAVA_CONN_DB" -tAc "SELECT current_user || '|' || current_setting('application_name')"
env > "$LAVA_ENV_DUMP"
`;

async function stdout(r: JobResult): Promise<string> {
  return (await world.s3.get("lava-temp", `dev/${r.job_id}/${r.run_id}/stdout`)).toString("utf8");
}

function exeJob(jobId: string, dump: string) {
  return {
    job_id: jobId,
    type: "exe",
    enabled: true,
    payload: "report.sh",
    parameters: { connections: { db: "pg" }, env: { LAVA_ENV_DUMP: dump } },
  };
}

describe("exe jobs with $LAVA_CONN_<L>", () => {
  it("query through an SSM-password connection whose password holds : and \\, never in the payload's env", async () => {
    // Prepare
    await world.s3.put("payloads", "dev/report.sh", SCRIPT);
    const dump = `/tmp/lava-exe-env-${process.pid}-pw`;
    const realm = world.realm([exeJob("ops/report", dump)], {}, TOP);
    // Act
    const r = await world.run(realm, { job_id: "ops/report" });
    // Assess
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect(await stdout(r)).toBe("loader|lv-dev-ops/report\n");
    const { readFile, rm } = await import("node:fs/promises");
    const env = await readFile(dump, "utf8");
    await rm(dump, { force: true });
    expect(env).toContain("LAVA_CONNID_DB=pg");
    expect(env).not.toContain("l0ad:er");
    expect(env).not.toMatch(/^PGPASSWORD=/m);
    expect(LOADER_PASSWORD).toContain("\\");
  });

  it("connects to the right server with verify-full when the job's env sets PGHOSTADDR, PGSSLMODE=disable, PGOPTIONS and the like", async () => {
    // Prepare: the job's env reaches the payload, and must not reach the connector's psql.
    await world.s3.put(
      "payloads",
      "dev/redirect.sh",
      `#!/bin/sh
set -e
"$LAVA_CONN_DB" -tAc "SELECT current_user, s.ssl, current_setting('search_path') FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()"
echo "payload sees $PGHOSTADDR $PGSSLMODE"
`,
    );
    const realm = world.realm(
      [
        {
          job_id: "ops/redirect",
          type: "exe",
          enabled: true,
          payload: "redirect.sh",
          parameters: {
            connections: { db: "pg" },
            env: {
              PGHOSTADDR: "127.0.0.2",
              PGSSLMODE: "disable",
              PGOPTIONS: "-c search_path=evil",
              PGSERVICE: "evil",
              PGPASSFILE: "/nonexistent/pgpass",
              PGCONNECT_TIMEOUT: "2",
            },
          },
        },
      ],
      {},
      TOP,
    );
    // Act
    const r = await world.run(realm, { job_id: "ops/redirect" });
    // Assess
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect(await stdout(r)).toBe('loader|t|"$user", public\npayload sees 127.0.0.2 disable\n');
  });

  it("query through an IAM-token connection, the token signed afresh for the psql start", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    // Frozen at the current second: S3 requests must stay within the server's allowed clock skew.
    vi.setSystemTime(new Date(Math.floor(Date.now() / 1000) * 1000));
    const token = await world.iamToken("iamrunner");
    await world.rows(`ALTER ROLE iamrunner PASSWORD '${token.replace(/'/g, "''")}'`);
    await world.s3.put("payloads", "dev/report.sh", SCRIPT);
    const dump = `/tmp/lava-exe-env-${process.pid}-iam`;
    const realm = world.realm(
      [exeJob("ops/iam", dump)],
      { type: "postgres-aurora", user: "iamrunner", password: undefined },
      TOP,
    );
    const r = await world.run(realm, { job_id: "ops/iam" });
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect(await stdout(r)).toBe("iamrunner|lv-dev-ops/iam\n");
    const { readFile, rm } = await import("node:fs/promises");
    const env = await readFile(dump, "utf8");
    await rm(dump, { force: true });
    expect(env).not.toContain(token.slice(-40));
  });
});
