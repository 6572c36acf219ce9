import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sweepPgpassDirs } from "../../../lambda/connectors/pgpass";

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "lava-sweep-test-"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A pid that was used and is gone (spawnSync reaps it). */
const deadPid = () => spawnSync("true").pid;

describe("sweepPgpassDirs", () => {
  it("removes private directories of dead processes only, never through a link", async () => {
    // Prepare
    const dead = `lava-psql-${deadPid()}-AbC123`;
    const mine = `lava-psql-${process.pid}-XyZ789`;
    const parent = `lava-psql-${process.ppid}-QwE456`;
    const other = "lava-psql-Zz9Yy8";
    const target = join(base, "kept-target");
    await mkdir(target);
    await writeFile(join(target, "pgpass"), "x");
    for (const d of [dead, mine, parent, other]) {
      await mkdir(join(base, d));
      await writeFile(join(base, d, "pgpass"), "*:*:*:u:secret\n", { mode: 0o600 });
    }
    const link = `lava-psql-${deadPid()}-LnK000`;
    await symlink(target, join(base, link));
    // Act
    const removed = await sweepPgpassDirs(base);
    // Assess
    expect(removed).toEqual([join(base, dead)]);
    expect((await readdir(base)).sort()).toEqual([other, "kept-target", link, parent, mine].sort());
    expect(await readdir(target)).toEqual(["pgpass"]);
  });

  it("does nothing for a directory it cannot read", async () => {
    expect(await sweepPgpassDirs(join(base, "missing"))).toEqual([]);
  });
});
