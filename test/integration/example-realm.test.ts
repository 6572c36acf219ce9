/** The example realm's plain-PostgreSQL job runs with `lava-aurora run` against local servers. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO, runCli } from "../support/cli";
import { startPgCluster, startS3 } from "../support/index";
import { useAwsStub } from "../support/use-aws-stub";

const aws = useAwsStub();

describe("realms/example.yaml", () => {
  it("runs demo/load-members with lava-aurora run against a local PostgreSQL and S3", async () => {
    // Prepare: a local server where the example expects one (only the port differs), its password in SSM.
    const [cluster, s3] = await Promise.all([
      startPgCluster(),
      startS3({ buckets: ["example-landing"] }),
    ]);
    try {
      await cluster.createRole("lava", { password: "local:pw" });
      await cluster.createDatabase("lava", "lava");
      aws.setParameter("/lava/example/local-pg", "local:pw", "SecureString");
      await s3.put(
        "example-landing",
        "demo/members.csv",
        "member_id,name,joined\n1,Ada,2024-01-02\n2,Grace,2024-02-03\n",
      );
      const realm = parse(await readFile(join(REPO, "realms/example.yaml"), "utf8"));
      const local = realm.connections.find((c: { conn_id: string }) => c.conn_id === "local-pg");
      local.port = cluster.port;
      const file = join(cluster.socketDir, "example.json");
      await writeFile(file, JSON.stringify(realm));
      const env = { ...aws.env(), ...s3.env() };
      await runCli(["psql", "local-pg", "--realm-file", file, "--", "-c", "CREATE SCHEMA demo"], {
        env,
      });
      // Act
      const r = await runCli(["run", "demo/load-members", "--realm-file", file], { env });
      // Assess
      expect(JSON.parse(r.stdout)).toMatchObject({
        status: "ok",
        rows: 2,
        table: "demo.members",
        loaded_table: '"demo"."members_a"',
      });
      expect(r.code).toBe(0);
    } finally {
      await Promise.all([cluster.stop(), s3.stop()]);
    }
  });
});
