/**
 * Manifest entries are checked before anything loads: an entry outside the
 * realm's s3_sources or under its s3_temp, an entry listed twice, and the
 * manifest listing itself are refused, naming the entry.
 */
import { describe, expect, it } from "vitest";
import { BUCKET, loadJob, useLoadWorld } from "../support/load-world";

const world = useLoadWorld();

const SOURCES = { s3_sources: [{ bucket: BUCKET, prefix: "in/" }], s3_temp: `s3://${BUCKET}/tmp` };

function manifestJob(table: string) {
  return loadJob("m", {
    table,
    mode: "append",
    columns: ["id INTEGER", "name TEXT"],
    args: ["FORMAT CSV", "HEADER", "MANIFEST"],
  });
}

async function runManifest(table: string, urls: string[], top: Record<string, unknown> = SOURCES) {
  const key = `in/${table}.manifest`;
  await world.s3.put(BUCKET, key, JSON.stringify({ entries: urls.map((url) => ({ url })) }));
  const realm = world.realm([manifestJob(table)], {}, top);
  return world.run(realm, { job_id: "m", parameters: { key } });
}

const tableExists = async (table: string) =>
  (
    await world.rows<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [`sales.${table}`])
  )[0]?.t !== null;

describe("manifest entries", () => {
  it("loads entries inside s3_sources", async () => {
    await world.s3.put(BUCKET, "in/ok/1.csv", "id,name\n1,a\n");
    const r = await runManifest("m_ok", [`s3://${BUCKET}/in/ok/1.csv`]);
    expect(r).toMatchObject({ status: "ok", rows: 1 });
  });

  it.each([
    [
      "outside the realm's s3_sources",
      "m_out",
      [`s3://${BUCKET}/in/x.csv`, `s3://${BUCKET}/private/secrets.csv`],
      `manifest s3://${BUCKET}/in/m_out.manifest: entries[1]: s3://${BUCKET}/private/secrets.csv is outside the realm's s3_sources`,
    ],
    [
      "in another bucket",
      "m_bucket",
      ["s3://elsewhere/in/x.csv"],
      `manifest s3://${BUCKET}/in/m_bucket.manifest: entries[0]: s3://elsewhere/in/x.csv is outside the realm's s3_sources`,
    ],
    [
      "under s3_temp (other jobs' outputs)",
      "m_temp",
      [`s3://${BUCKET}/tmp/other-job/run/stdout`],
      `manifest s3://${BUCKET}/in/m_temp.manifest: entries[0]: s3://${BUCKET}/tmp/other-job/run/stdout is under the realm's s3_temp`,
    ],
    [
      "listed twice",
      "m_twice",
      [`s3://${BUCKET}/in/a.csv`, `s3://${BUCKET}/in/b.csv`, `s3://${BUCKET}/in/a.csv`],
      `manifest s3://${BUCKET}/in/m_twice.manifest: entries[2]: s3://${BUCKET}/in/a.csv is listed twice (also entries[0])`,
    ],
    [
      "the manifest itself",
      "m_self",
      [`s3://${BUCKET}/in/m_self.manifest`],
      `manifest s3://${BUCKET}/in/m_self.manifest: entries[0]: s3://${BUCKET}/in/m_self.manifest is the manifest itself`,
    ],
  ])("refuses an entry %s, before loading anything", async (_what, table, urls, message) => {
    for (const k of [
      "in/x.csv",
      "in/a.csv",
      "in/b.csv",
      "private/secrets.csv",
      "tmp/other-job/run/stdout",
    ])
      await world.s3.put(BUCKET, k, "id,name\n7,x\n");
    const r = await runManifest(table, urls);
    expect(r.status).toBe("failed");
    expect(r.error).toMatchObject({ name: "ManifestError", retryable: false, message });
    expect(await tableExists(table)).toBe(false);
  });

  it("without s3_sources in the realm, any bucket is allowed but s3_temp, duplicates and itself are not", async () => {
    await world.s3.put(BUCKET, "in/any.csv", "id,name\n1,a\n");
    const ok = await runManifest("m_any", [`s3://${BUCKET}/in/any.csv`], {});
    expect(ok).toMatchObject({ status: "ok", rows: 1 });
    const self = await runManifest("m_any2", [`s3://${BUCKET}/in/m_any2.manifest`], {});
    expect(self.error?.name).toBe("ManifestError");
  });

  it("fails on a missing entry that does not say mandatory (lava's rule); only mandatory: false may be missing", async () => {
    await world.s3.put(BUCKET, "in/mm/1.csv", "id,name\n1,a\n");
    const key = "in/mm.manifest";
    const put = (entries: unknown[]) => world.s3.put(BUCKET, key, JSON.stringify({ entries }));
    const realm = world.realm([manifestJob("m_missing")], {}, SOURCES);
    await put([{ url: `s3://${BUCKET}/in/mm/1.csv` }, { url: `s3://${BUCKET}/in/mm/gone.csv` }]);
    const r = await world.run(realm, { job_id: "m", parameters: { key } });
    expect(r.error).toMatchObject({
      name: "ObjectMissingError",
      message: `s3://${BUCKET}/in/mm/gone.csv: manifest entry missing (manifest s3://${BUCKET}/${key}); only entries with "mandatory": false may be missing`,
    });
    expect(await tableExists("m_missing")).toBe(false);
    await put([
      { url: `s3://${BUCKET}/in/mm/1.csv` },
      { url: `s3://${BUCKET}/in/mm/gone.csv`, mandatory: false },
    ]);
    const ok = await world.run(realm, { job_id: "m", parameters: { key } });
    expect(ok).toMatchObject({ status: "ok", rows: 1 });
  });

  it("applies min_size to each entry, not to the manifest (lava's rule)", async () => {
    // Prepare: a manifest smaller than min_size listing one big entry and one runt.
    const big = `id,name\n${Array.from({ length: 40 }, (_, i) => `${i},name-${i}`).join("\n")}\n`;
    await world.s3.put(BUCKET, "in/ms/big.csv", big);
    await world.s3.put(BUCKET, "in/ms/runt.csv", "id,name\n99,r\n");
    const realm = world.realm([manifestJob("m_size")], {}, SOURCES);
    const key = "in/ms.manifest";
    await world.s3.put(
      BUCKET,
      key,
      JSON.stringify({
        entries: ["big", "runt"].map((n) => ({ url: `s3://${BUCKET}/in/ms/${n}.csv` })),
      }),
    );
    // Act
    const r = await world.run(realm, { job_id: "m", parameters: { key, min_size: 200 } });
    // Assess
    expect(r).toMatchObject({ status: "ok", rows: 40 });
    expect(r.events.join("\n")).toContain(
      `s3://${BUCKET}/in/ms/runt.csv: smaller than min_size 200: not loaded`,
    );
    const onlyRunts = await world.run(realm, {
      job_id: "m",
      parameters: { key, min_size: 10_000 },
    });
    expect(onlyRunts).toMatchObject({ status: "skipped", reason: "below_min_size" });
  });
});
