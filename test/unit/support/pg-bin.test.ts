/** Finding PostgreSQL server binaries, on a fake file system layout. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findPgBin, type PgBinSearch, pgBinHint } from "../../../bin/cli/local-world/pg-bin";

let root: string;
let search: PgBinSearch;

/** A directory holding the given (executable, empty) binaries. */
async function binDir(path: string, names = ["initdb", "pg_ctl", "postgres"]): Promise<string> {
  const dir = join(root, path);
  await mkdir(dir, { recursive: true });
  for (const n of names) {
    await writeFile(join(dir, n), "#!/bin/sh\n");
    await chmod(join(dir, n), 0o755);
  }
  return dir;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "lava-pg-bin-"));
  search = {
    versionedParents: [join(root, "usr/lib/postgresql")],
    kegParents: [join(root, "opt/homebrew/opt")],
    fixed: [join(root, "usr/local/pgsql/bin")],
  };
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({ PATH: join(root, "empty"), ...extra });

describe("findPgBin", () => {
  it("takes the newest complete /usr/lib/postgresql/<version>/bin", async () => {
    await binDir("usr/lib/postgresql/9.6/bin");
    const v14 = await binDir("usr/lib/postgresql/14/bin");
    await binDir("usr/lib/postgresql/16/bin", ["initdb", "pg_ctl"]);
    expect(findPgBin({ env: env(), search })).toEqual({ found: true, dir: v14 });
  });

  it("prefers the asked-for major version where installed", async () => {
    const v96 = await binDir("usr/lib/postgresql/9.6/bin");
    const v14 = await binDir("usr/lib/postgresql/14/bin");
    expect(findPgBin({ env: env(), search, prefer: "9.6" })).toEqual({ found: true, dir: v96 });
    expect(findPgBin({ env: env(), search, prefer: "13" })).toEqual({ found: true, dir: v14 });
  });

  it("takes PATH before the usual places", async () => {
    await binDir("usr/lib/postgresql/16/bin");
    const onPath = await binDir("somewhere/bin");
    expect(findPgBin({ env: { PATH: `${root}/empty:${onPath}` }, search })).toEqual({
      found: true,
      dir: onPath,
    });
  });

  it("falls back to Homebrew kegs, then /usr/local/pgsql/bin", async () => {
    const fixed = await binDir("usr/local/pgsql/bin");
    expect(findPgBin({ env: env(), search })).toEqual({ found: true, dir: fixed });
    const keg = await binDir("opt/homebrew/opt/postgresql@15/bin");
    expect(findPgBin({ env: env(), search })).toEqual({ found: true, dir: keg });
  });

  it("uses LAVA_PG_BIN alone when set, and says when it is wrong", async () => {
    await binDir("usr/lib/postgresql/16/bin");
    const mine = await binDir("mine");
    expect(findPgBin({ env: env({ LAVA_PG_BIN: mine }), search })).toEqual({
      found: true,
      dir: mine,
    });
    const wrong = findPgBin({ env: env({ LAVA_PG_BIN: "/nonexistent" }), search });
    expect(wrong).toEqual({ found: false, reason: "override", override: "/nonexistent" });
    if (!wrong.found)
      expect(pgBinHint(wrong)).toContain(
        "LAVA_PG_BIN=/nonexistent does not hold initdb, pg_ctl, postgres",
      );
  });

  it("finds nothing on a bare machine and says how to install PostgreSQL", () => {
    const none = findPgBin({ env: env(), search });
    expect(none).toEqual({ found: false, reason: "none" });
    if (!none.found) {
      const hint = pgBinHint(none);
      expect(hint).toContain("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found");
      expect(hint).toContain("Debian/Ubuntu: sudo apt-get install postgresql");
      expect(hint).toContain("macOS:         brew install postgresql@15");
      expect(hint).toContain("LAVA_PG_BIN");
    }
  });
});
