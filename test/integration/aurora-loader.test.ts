/**
 * db_from_s3 through Aurora's aws_s3 import, with the stand-in extension
 * pulling from the local S3 server: every mode, GZIP without touching the
 * source, manifests with empty and bad parts, credentials forms.
 */

import { gzipSync } from "node:zlib";
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { installAwsS3Standin } from "../../bin/cli/local-world/aws-s3-standin";
import { runJob } from "../../lambda/jobs/run-job";
import type { Progress } from "../../lambda/jobs/types";
import { LOAD_MODES } from "../../lambda/spec/job";
import { STUB_ACCESS_KEY_ID, STUB_ASSUMED_ACCESS_KEY_ID } from "../support/index";
import { BUCKET, DATABASE, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();
const TEMP = "lava-temp";
const COLUMNS = ["id INTEGER", "name TEXT"];
const csv = (...ids: number[]) => `id,name\n${ids.map((i) => `${i},n${i}`).join("\n")}\n`;

beforeAll(async () => {
  await installAwsS3Standin(world.cluster, DATABASE, world.s3.endpoint);
  await world.s3.createBucket(TEMP);
});

/** A realm whose connection `pg` is Aurora, with s3_temp and the given extra connections. */
function auroraRealm(jobs: Record<string, unknown>[], top: Record<string, unknown> = {}) {
  return world.realm(
    jobs,
    { type: "postgres-aurora" },
    { s3_temp: `s3://${TEMP}/dev/tmp`, ...top },
  );
}

function job(jobId: string, table: string, params: Record<string, unknown> = {}) {
  return loadJob(jobId, { table, columns: COLUMNS, args: ["FORMAT CSV", "HEADER"], ...params });
}

const ids = async (table: string) =>
  (await world.rows<{ id: number }>(`SELECT id FROM sales.${table} ORDER BY id`)).map((r) => r.id);
const lastCall = async () =>
  (
    await world.rows<Record<string, unknown>>(
      "SELECT form, table_name, column_list, options, bucket, file_path, region, access_key, has_secret, has_session_token FROM aws_s3.standin_calls ORDER BY called_at DESC LIMIT 1",
    )
  )[0];
const tempObjects = async () =>
  (await world.s3.client().send(new ListObjectsV2Command({ Bucket: TEMP }))).Contents?.map(
    (o) => o.Key,
  ) ?? [];
const head = (key: string) =>
  world.s3.client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));

describe("the Aurora loader", () => {
  it.each(LOAD_MODES.filter((m) => m !== "abort"))(
    "loads in mode %s through aws_s3, the database pulling the object",
    async (mode) => {
      // Prepare
      const table = `au_${mode}`;
      await world.s3.put(BUCKET, `${table}/1.csv`, csv(1, 2));
      await world.s3.put(BUCKET, `${table}/2.csv`, csv(3));
      const realm = auroraRealm([job("j", table, { mode })]);
      // Act
      const first = await world.run(realm, { job_id: "j", parameters: { key: `${table}/1.csv` } });
      const second = await world.run(realm, { job_id: "j", parameters: { key: `${table}/2.csv` } });
      // Assess
      expect(first).toMatchObject({ status: "ok", rows: 2 });
      expect(second).toMatchObject({ status: "ok", rows: 1 });
      expect(second.events.join("\n")).toContain("(aws_s3 import)");
      const physical = mode === "switch" ? `${table}_b` : table;
      expect(await ids(physical)).toEqual(mode === "append" ? [1, 2, 3] : [3]);
      expect(await lastCall()).toEqual({
        form: "text",
        table_name: mode === "switch" ? `"sales"."${table}_b"` : `"sales"."${table}"`,
        column_list: '"id", "name"',
        options: "(FORMAT csv, HEADER true)",
        bucket: BUCKET,
        file_path: `${table}/2.csv`,
        region: "us-east-1",
        access_key: null,
        has_secret: false,
        has_session_token: false,
      });
    },
  );

  it("reports an import's progress at its end: all its bytes, and its rows with progressRows", async () => {
    await world.s3.put(BUCKET, "au_progress/1.csv", csv(1, 2, 3));
    const realm = auroraRealm([job("j", "au_progress", { key: "au_progress/1.csv" })]);
    const seen: Progress[] = [];
    const r = await world.run(
      realm,
      { job_id: "j" },
      { onProgress: (p) => seen.push(p), progressRows: true },
    );
    expect(r).toMatchObject({ status: "ok", rows: 3 });
    const size = csv(1, 2, 3).length;
    expect(seen).toEqual([
      { object: `s3://${BUCKET}/au_progress/1.csv`, bytes: size, totalBytes: size, rows: 3 },
    ]);
  });

  it("loads in mode abort, and refuses a table with rows", async () => {
    await world.s3.put(BUCKET, "au_abort/1.csv", csv(1));
    const realm = auroraRealm([job("j", "au_abort", { mode: "abort", key: "au_abort/1.csv" })]);
    expect(await world.run(realm, { job_id: "j" })).toMatchObject({ status: "ok", rows: 1 });
    expect(
      (await world.run(realm, { job_id: "j", parameters: { reload: true } })).error?.name,
    ).toBe("TargetStateError");
  });

  it("imports GZIP objects without Content-Encoding through a temporary copy, never touching the source", async () => {
    // Prepare
    await world.s3.put(BUCKET, "gz/plain.csv.gz", gzipSync(csv(1, 2, 3)));
    const before = await head("gz/plain.csv.gz");
    const realm = auroraRealm([
      job("j", "au_gz", { key: "gz/plain.csv.gz", args: ["FORMAT CSV", "HEADER", "GZIP"] }),
    ]);
    // Act
    const r = await world.run(realm, { job_id: "j" });
    // Assess
    expect(r).toMatchObject({ status: "ok", rows: 3 });
    expect(r.events.join("\n")).toMatch(
      /has no Content-Encoding: gzip; importing a copy, s3:\/\/lava-temp\/dev\/tmp\/j\/[0-9a-f-]+\/1-plain\.csv\.gz/,
    );
    const after = await head("gz/plain.csv.gz");
    expect({
      etag: after.ETag,
      modified: after.LastModified,
      encoding: after.ContentEncoding,
      meta: after.Metadata,
    }).toEqual({
      etag: before.ETag,
      modified: before.LastModified,
      encoding: before.ContentEncoding,
      meta: before.Metadata,
    });
    expect(before.ContentEncoding).toBeUndefined();
    expect(await tempObjects()).toEqual([]);
    expect((await lastCall())?.file_path).toMatch(/^dev\/tmp\/j\/[0-9a-f-]+\/1-plain\.csv\.gz$/);
  });

  it("removes the temporary copy when the import fails", async () => {
    await world.s3.put(BUCKET, "gz/bad.csv.gz", gzipSync("id,name\nnot-a-number,x\n"));
    const realm = auroraRealm([
      job("j", "au_gzbad", { key: "gz/bad.csv.gz", args: ["FORMAT CSV", "HEADER", "GZIP"] }),
    ]);
    const r = await world.run(realm, { job_id: "j" });
    expect(r.error?.name).toBe("BadDataError");
    expect(r.error?.message).toContain("s3://landing/gz/bad.csv.gz");
    expect(await tempObjects()).toEqual([]);
    expect(await world.rows("SELECT to_regclass('sales.au_gzbad') AS t")).toEqual([{ t: null }]);
  });

  it.each([
    ["right after the copy is made", "CopyObjectCommand"],
    ["after the copy was checked, during the import", "HeadObjectCommand"],
  ])("fails and loads nothing when the gzip copy is replaced %s", async (_when, hookOn) => {
    // Prepare: a client whose S3 calls let "someone else" overwrite the copy in s3_temp
    // just after the first CopyObject (or HeadObject) of the copy's key.
    await world.s3.put(BUCKET, "gz/tamper.csv.gz", gzipSync(csv(1, 2)));
    const realm = auroraRealm([
      job("j", "au_tamper", { key: "gz/tamper.csv.gz", args: ["FORMAT CSV", "HEADER", "GZIP"] }),
    ]);
    let tampered = false;
    const base = world.deps();
    const deps = {
      ...base,
      s3: (config: Parameters<typeof base.s3>[0]) => {
        const client = base.s3(config);
        client.middlewareStack.add(
          (next, context) => async (args) => {
            const out = await next(args);
            const input = args.input as { Bucket?: string; Key?: string };
            if (!tampered && context.commandName === hookOn && input.Bucket === TEMP) {
              tampered = true;
              await world.s3.put(TEMP, input.Key as string, gzipSync(csv(666, 667, 668)), {
                contentEncoding: "gzip",
              });
            }
            return out;
          },
          { step: "initialize", name: "tamperWithCopy" },
        );
        return client;
      },
    };
    // Act
    const r = await runJob(realm, { job_id: "j" }, deps);
    // Assess
    expect(tampered).toBe(true);
    expect(r.status).toBe("failed");
    expect(r.error?.name).toBe("ObjectChangedError");
    expect(r.error?.message).toMatch(
      /^the gzip copy s3:\/\/lava-temp\/dev\/tmp\/j\/.*1-tamper\.csv\.gz of s3:\/\/landing\/gz\/tamper\.csv\.gz was replaced/,
    );
    expect(await world.rows("SELECT to_regclass('sales.au_tamper') AS t")).toEqual([{ t: null }]);
    expect(await tempObjects()).toEqual([]);
  });

  it("imports objects that already have Content-Encoding: gzip directly", async () => {
    await world.s3.put(BUCKET, "gz/enc.csv.gz", gzipSync(csv(7)), { contentEncoding: "gzip" });
    const realm = auroraRealm([
      job("j", "au_gzenc", { key: "gz/enc.csv.gz", args: ["FORMAT CSV", "HEADER", "GZIP"] }),
    ]);
    const r = await world.run(realm, { job_id: "j" });
    expect(r).toMatchObject({ status: "ok", rows: 1 });
    expect(r.events.join("\n")).not.toContain("importing a copy");
    expect((await lastCall())?.file_path).toBe("gz/enc.csv.gz");
  });

  it("refuses GZIP without Content-Encoding when the realm has no s3_temp", async () => {
    await world.s3.put(BUCKET, "gz/notemp.csv.gz", gzipSync(csv(1)));
    const realm = world.realm(
      [job("j", "au_notemp", { key: "gz/notemp.csv.gz", args: ["FORMAT CSV", "HEADER", "GZIP"] })],
      { type: "postgres-aurora" },
    );
    const r = await world.run(realm, { job_id: "j" });
    expect(r.error?.message).toBe(
      "s3://landing/gz/notemp.csv.gz: GZIP through aws_s3 needs Content-Encoding: gzip; the object has none and the realm has no s3_temp to copy it to",
    );
  });

  it("loads the rest of a manifest with an empty part, recording it as empty", async () => {
    await world.s3.put(BUCKET, "man/1.csv", csv(1));
    await world.s3.put(BUCKET, "man/empty.csv", "");
    await world.s3.put(BUCKET, "man/3.csv", csv(3));
    const entries = ["1.csv", "empty.csv", "3.csv"].map((k) => ({
      url: `s3://${BUCKET}/man/${k}`,
      mandatory: true,
    }));
    await world.s3.put(BUCKET, "man/ok.manifest", JSON.stringify({ entries }));
    const realm = auroraRealm([
      job("j", "au_man", { key: "man/ok.manifest", args: ["FORMAT CSV", "HEADER", "MANIFEST"] }),
    ]);
    const r = await world.run(realm, { job_id: "j" });
    expect(r).toMatchObject({ status: "ok", rows: 2 });
    expect(r.events.join("\n")).toContain("s3://landing/man/empty.csv is empty: nothing imported");
    expect(await ids("au_man")).toEqual([1, 3]);
  });

  it("fails the whole run on a bad manifest part and leaves the target unchanged", async () => {
    await world.s3.put(BUCKET, "manbad/0-seed.csv", csv(100));
    const realm = auroraRealm([
      job("j", "au_manbad", { mode: "truncate", key: "manbad/0-seed.csv" }),
    ]);
    expect((await world.run(realm, { job_id: "j" })).status).toBe("ok");
    await world.s3.put(BUCKET, "manbad/1.csv", csv(1));
    await world.s3.put(BUCKET, "manbad/2.csv", "id,name\nx,y\n");
    const entries = ["1.csv", "2.csv"].map((k) => ({ url: `s3://${BUCKET}/manbad/${k}` }));
    await world.s3.put(BUCKET, "manbad/m.manifest", JSON.stringify({ entries }));
    const r = await world.run(realm, {
      job_id: "j",
      parameters: { key: "manbad/m.manifest", args: ["FORMAT CSV", "HEADER", "MANIFEST"] },
    });
    expect(r.error?.name).toBe("BadDataError");
    expect(r.error?.message).toContain("s3://landing/manbad/2.csv");
    expect(await ids("au_manbad")).toEqual([100]);
  });

  it("gives s3_conn_id credentials to the import with none of them in the server log", async () => {
    // Prepare: the server logs every statement with its bind parameters, as RDS parameter groups often do.
    const secret = "the-secret\tx\\y:z";
    world.aws.setParameter("/lava/dev/s3keys", `${STUB_ACCESS_KEY_ID},${secret}`, "SecureString");
    world.s3.allowAccessKey(STUB_ACCESS_KEY_ID, secret);
    await world.s3.put(BUCKET, "keys/1.csv", csv(1));
    await world.s3.put(BUCKET, "role/1.csv", csv(1));
    const keys = {
      conn_id: "s3keys",
      type: "aws",
      enabled: true,
      access_keys: "/lava/dev/s3keys",
      region: "us-east-1",
    };
    const role = {
      conn_id: "s3role",
      type: "aws",
      enabled: true,
      role_arn: "arn:aws:iam::123456789012:role/partner",
      region: "us-east-1",
    };
    const realm = auroraRealm(
      [
        job("k", "au_keys", { key: "keys/1.csv", s3_conn_id: "s3keys" }),
        job("r", "au_role", { key: "role/1.csv", s3_conn_id: "s3role" }),
        job("e", "au_keys_empty", { key: "keys/empty.csv", s3_conn_id: "s3keys" }),
      ],
      { connections: [keys, role] },
    );
    await world.s3.put(BUCKET, "keys/empty.csv", "");
    for (const [name, value] of [
      ["log_min_duration_statement", "0"],
      ["log_statement", "all"],
      ["log_parameter_max_length", "-1"],
      ["log_parameter_max_length_on_error", "-1"],
    ])
      await world.cluster.query(`ALTER SYSTEM SET ${name} = '${value}'`);
    await world.cluster.query("SELECT pg_reload_conf()");
    try {
      // Act
      const withKeys = await world.run(realm, { job_id: "k" });
      const keysCall = await lastCall();
      const withRole = await world.run(realm, { job_id: "r" });
      const roleCall = await lastCall();
      const empty = await world.run(realm, { job_id: "e" });
      // Assess: the import got the keys; the log shows the import, but no credential.
      expect(withKeys).toMatchObject({ status: "ok", rows: 1 });
      expect(keysCall).toMatchObject({
        form: "text+credentials",
        access_key: STUB_ACCESS_KEY_ID,
        has_secret: true,
        has_session_token: false,
      });
      expect(withRole).toMatchObject({ status: "ok", rows: 1 });
      expect(roleCall).toMatchObject({
        form: "text+credentials",
        access_key: STUB_ASSUMED_ACCESS_KEY_ID,
        has_session_token: true,
      });
      expect(empty).toMatchObject({ status: "ok", rows: 0 });
      const log = await world.cluster.readLog();
      expect(log).toContain("aws_s3.table_import_from_s3");
      for (const credential of [
        "the-secret",
        STUB_ACCESS_KEY_ID,
        "stub-assumed-secret",
        "stub-session-token",
        STUB_ASSUMED_ACCESS_KEY_ID,
      ])
        expect(log).not.toContain(credential);
      expect(JSON.stringify([withKeys, withRole])).not.toContain("the-secret");
    } finally {
      await world.cluster.query("ALTER SYSTEM RESET ALL");
      await world.cluster.query("SELECT pg_reload_conf()");
    }
  });

  it("fails a missing object with its key, or skips it with skip_missing", async () => {
    const realm = auroraRealm([job("j", "au_missing", { key: "nope/none.csv" })]);
    const r = await world.run(realm, { job_id: "j" });
    expect(r.error).toMatchObject({
      name: "ObjectMissingError",
      message: "s3://landing/nope/none.csv does not exist",
    });
    const skipped = await world.run(realm, { job_id: "j", parameters: { skip_missing: true } });
    expect(skipped).toMatchObject({ status: "skipped", reason: "missing" });
  });

  it.each(["append", "drop", "switch"])(
    "fans out a prefix of GZIP parts in mode %s: items import in parallel, each with its own temporary copies, then one publish",
    async (mode) => {
      const table = `au_fan_${mode}`;
      for (let i = 0; i < 5; i++)
        await world.s3.put(
          BUCKET,
          `${table}/day/p${i}.csv.gz`,
          gzipSync(csv(i * 10 + 1, i * 10 + 2)),
        );
      await world.s3.put(BUCKET, `${table}/day/notes.txt`, "not a part\n");
      const realm = auroraRealm([
        job("fan", table, {
          mode,
          columns: ["id INTEGER PRIMARY KEY", "name TEXT"],
          key: `${table}/day/`,
          glob: "*.csv.gz",
          args: ["FORMAT CSV", "HEADER", "GZIP"],
          fan_out: { workers: 2, item_size: 1 },
        }),
      ]);
      const r = await world.run(realm, { job_id: "fan" });
      expect(r.status, JSON.stringify(r)).toBe("ok");
      expect(r).toMatchObject({ rows: 10, fan_out: { items: 5, parts: 5, workers: 2 } });
      const imported = r.events.filter((e) => /item \d+: .* rows into/.test(e));
      expect(imported).toHaveLength(5);
      const physical = mode === "switch" ? `${table}_a` : table;
      expect(await ids(physical)).toEqual([1, 2, 11, 12, 21, 22, 31, 32, 41, 42]);
      // Each item copied its parts under its own folder; none is left.
      const copies = await world.rows<{ file_path: string }>(
        "SELECT DISTINCT file_path FROM aws_s3.standin_calls WHERE file_path LIKE $1",
        [`dev/tmp/fan/${r.run_id}/%`],
      );
      expect(copies.map((c) => c.file_path.split("/")[4]).sort()).toEqual([
        "item-0",
        "item-1",
        "item-2",
        "item-3",
        "item-4",
      ]);
      expect(await tempObjects()).toEqual([]);
    },
  );

  it("merges through aws_s3 into the session's staging table, a GZIP part through its temporary copy", async () => {
    const table = "au_merge";
    await world.s3.put(BUCKET, `${table}/1.csv`, csv(1, 2));
    await world.s3.put(BUCKET, `${table}/2.csv.gz`, gzipSync("id,name\n2,changed\n3,n3\n"));
    const realm = auroraRealm([
      job("mg", table, { mode: "merge", columns: ["id INTEGER PRIMARY KEY", "name TEXT"] }),
      job("mgz", table, {
        mode: "merge",
        columns: ["id INTEGER PRIMARY KEY", "name TEXT"],
        args: ["FORMAT CSV", "HEADER", "GZIP"],
      }),
    ]);
    const first = await world.run(realm, { job_id: "mg", parameters: { key: `${table}/1.csv` } });
    expect(first).toMatchObject({ status: "ok", merged: { inserted: 2, updated: 0 } });
    expect(first.events.join("\n")).toContain("(aws_s3 import)");
    const second = await world.run(realm, {
      job_id: "mgz",
      parameters: { key: `${table}/2.csv.gz` },
    });
    expect(second).toMatchObject({ status: "ok", merged: { inserted: 1, updated: 1 } });
    expect(await world.rows(`SELECT id, name FROM sales.${table} ORDER BY id`)).toEqual([
      { id: 1, name: "n1" },
      { id: 2, name: "changed" },
      { id: 3, name: "n3" },
    ]);
    expect(await tempObjects()).toEqual([]);
  });

  it("maps columns by each object's header through aws_s3's column_list (columns_from_header), a GZIP part too", async () => {
    const table = "au_header";
    await world.s3.put(BUCKET, `${table}/1.csv`, "name,id\nann,1\n");
    await world.s3.put(BUCKET, `${table}/2.csv.gz`, gzipSync("id\n2\n"));
    const params = (args: string[]) => ({
      columns: ["id INTEGER", "name TEXT DEFAULT 'none'"],
      columns_from_header: true,
      args,
    });
    const realm = auroraRealm([
      job("h", table, params(["FORMAT CSV", "HEADER"])),
      job("hz", table, params(["FORMAT CSV", "HEADER", "GZIP"])),
    ]);
    const first = await world.run(realm, { job_id: "h", parameters: { key: `${table}/1.csv` } });
    expect(first).toMatchObject({ status: "ok", rows: 1 });
    expect(first.events.join("\n")).toContain("(aws_s3 import)");
    expect(await lastCall()).toMatchObject({
      column_list: '"name", "id"',
      file_path: `${table}/1.csv`,
    });
    const second = await world.run(realm, {
      job_id: "hz",
      parameters: { key: `${table}/2.csv.gz` },
    });
    expect(second).toMatchObject({ status: "ok", rows: 1 });
    expect(await lastCall()).toMatchObject({ column_list: '"id"' });
    expect(await world.rows(`SELECT id, name FROM sales.${table} ORDER BY id`)).toEqual([
      { id: 1, name: "ann" },
      { id: 2, name: "none" },
    ]);
    expect(await tempObjects()).toEqual([]);
  });
});
