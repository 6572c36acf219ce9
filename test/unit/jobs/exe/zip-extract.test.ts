import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractZip } from "../../../../lambda/jobs/exe/zip";
import { buildZip, type ZipEntrySpec } from "../../../support/zip";

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "lava-zip-test-"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Write the zip, extract it into `base/out`, return that directory. */
async function extract(entries: ZipEntrySpec[]): Promise<string> {
  const file = join(base, "p.zip");
  await writeFile(file, buildZip(entries));
  const out = join(base, "out");
  await mkdir(out);
  await extractZip(file, out);
  return out;
}

describe("extractZip", () => {
  it("unpacks files, directories, modes and inside symlinks", async () => {
    const out = await extract([
      { name: "bin/" },
      { name: "bin/run.sh", data: "#!/bin/sh\necho hi\n", mode: 0o100755 },
      { name: "data/x.txt", data: "x" },
      { name: "run", data: "bin/run.sh", symlink: true },
    ]);
    expect((await stat(join(out, "bin/run.sh"))).mode & 0o100).toBe(0o100);
    expect((await stat(join(out, "data/x.txt"))).mode & 0o100).toBe(0);
    expect(await readFile(join(out, "data/x.txt"), "utf8")).toBe("x");
    expect(await readlink(join(out, "run"))).toBe("bin/run.sh");
  });

  it.each([
    ["a symlink escaping the directory", [{ name: "l", data: "../../etc", symlink: true }]],
    ["an absolute symlink", [{ name: "l", data: "/etc/passwd", symlink: true }]],
    ["a .. entry", [{ name: "../evil.txt", data: "x" }]],
    ["an absolute entry", [{ name: "/tmp/evil.txt", data: "x" }]],
  ])("refuses %s and writes nothing outside", async (_what, entries) => {
    await expect(extract(entries as ZipEntrySpec[])).rejects.toThrow(/^cannot unpack zip: /);
    expect((await readdir(base)).sort()).toEqual(["out", "p.zip"]);
  });

  it("refuses a symlink inside a symlinked directory (a two-step escape)", async () => {
    await expect(
      // Textually `d/l` -> `../x` is `x`, inside; but `d` is `.`, so the link would be `l` -> `../x`.
      extract([
        { name: "d", data: ".", symlink: true },
        { name: "d/l", data: "../x", symlink: true },
      ]),
    ).rejects.toThrow(/inside a symlinked directory/);
  });

  it("never writes a file twice", async () => {
    await expect(
      extract([
        { name: "a.txt", data: "1" },
        { name: "a.txt", data: "2" },
      ]),
    ).rejects.toThrow(/EEXIST/);
  });
});
