import { existsSync } from "node:fs";
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
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

  it("unpacks chains of links that stay inside (lib64 -> lib, a link to a link through it)", async () => {
    const out = await extract([
      { name: "lib/libx.so.1", data: "elf" },
      { name: "lib/libx.so", data: "libx.so.1", symlink: true },
      { name: "cur", data: "lib64/libx.so", symlink: true },
      { name: "lib64", data: "lib", symlink: true },
      { name: "here", data: "lib64/../lib64/./..", symlink: true },
    ]);
    expect(await readFile(join(out, "cur"), "utf8")).toBe("elf");
    expect(await realpath(join(out, "cur"))).toBe(join(await realpath(out), "lib/libx.so.1"));
    expect(await realpath(join(out, "here"))).toBe(await realpath(out));
  });

  it.each([
    [
      "a -> ., b -> a/.., h -> b/..",
      [
        { name: "a", data: ".", symlink: true },
        { name: "b", data: "a/..", symlink: true },
        { name: "h", data: "b/..", symlink: true },
      ],
    ],
    [
      "the same chain, last link first",
      [
        { name: "h", data: "b/..", symlink: true },
        { name: "b", data: "a/..", symlink: true },
        { name: "a", data: ".", symlink: true },
      ],
    ],
    [
      "d/up -> .. (the root), x -> d/up/..",
      [
        { name: "d/" },
        { name: "d/up", data: "..", symlink: true },
        { name: "x", data: "d/up/..", symlink: true },
      ],
    ],
    [
      "s -> d/., d -> ., t -> s/../x",
      [
        { name: "s", data: "d/.", symlink: true },
        { name: "d", data: ".", symlink: true },
        { name: "t", data: "s/../x", symlink: true },
      ],
    ],
  ])(
    "refuses a chain of links resolving outside (%s) and writes nothing outside",
    async (_what, entries) => {
      await expect(extract(entries as ZipEntrySpec[])).rejects.toThrow(
        /^cannot unpack zip: entry "[a-z]+": symlink points outside/,
      );
      expect((await readdir(base)).sort()).toEqual(["out", "p.zip"]);
    },
  );

  it("refuses a link loop", async () => {
    await expect(
      extract([
        { name: "a", data: "b", symlink: true },
        { name: "b", data: "a/x", symlink: true },
      ]),
    ).rejects.toThrow(/symlink loop/);
  });

  it("refuses a file written through a link, inside or out, and writes nothing outside", async () => {
    // Prepare: h resolves to tmpdir() (out -> base -> its parent), a file would land in it.
    const name = `lava-zip-evil-${process.pid}-${Date.now()}.txt`;
    const escaping: ZipEntrySpec[] = [
      { name: "a", data: ".", symlink: true },
      { name: "b", data: "a/..", symlink: true },
      { name: "h", data: "b/..", symlink: true },
      { name: `h/${name}`, data: "evil" },
    ];
    // Act, Assess
    await expect(extract(escaping)).rejects.toThrow(/^cannot unpack zip: /);
    expect(existsSync(join(tmpdir(), name))).toBe(false);
    expect(existsSync(join(base, name))).toBe(false);
    await rm(join(base, "out"), { recursive: true });
    await expect(
      extract([
        { name: "sub/" },
        { name: "l", data: "sub", symlink: true },
        { name: "l/x.txt", data: "x" },
      ]),
    ).rejects.toThrow(/entry "l\/x.txt": written through the symlink "l"/);
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
