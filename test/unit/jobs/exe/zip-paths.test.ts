import { describe, expect, it } from "vitest";
import { linkProblem, resolveInRoot, zipEntryPath } from "../../../../lambda/jobs/exe/zip";

describe("zipEntryPath", () => {
  it.each([
    ["bin/run.sh", "bin/run.sh"],
    ["bin/", "bin"],
    ["./a//b/./c", "a/b/c"],
    ["a..b/c..", "a..b/c.."],
  ])("accepts %s as %s", (name, path) => {
    expect(zipEntryPath(name)).toEqual({ path });
  });

  it.each([
    ["/etc/passwd", "absolute path"],
    ["C:/x", "absolute path"],
    ["../x", "'..' in entry name"],
    ["a/../../x", "'..' in entry name"],
    ["a/..", "'..' in entry name"],
    ["a\\..\\x", "backslash in entry name"],
    ["", "empty entry name"],
    ["./", "entry names the archive's root"],
    ["a\0b", "NUL in entry name"],
  ])("refuses %j: %s", (name, problem) => {
    expect(zipEntryPath(name)).toEqual({ problem });
  });
});

describe("linkProblem", () => {
  it.each([
    ["bin/run", "../lib/run.sh"],
    ["link", "bin/run.sh"],
    ["a/b/link", "../../c"],
    ["a/link", "."],
  ])("allows %s -> %s (inside)", (entry, target) => {
    expect(linkProblem(entry, target)).toBeUndefined();
  });

  it.each([
    ["link", "/etc/passwd"],
    ["link", ".."],
    ["link", "../x"],
    ["a/link", "../../x"],
    ["a/link", "b/../../../x"],
    ["link", ""],
  ])("refuses %s -> %j (outside or empty)", (entry, target) => {
    expect(linkProblem(entry, target)).toBe("symlink points outside");
  });

  it("follows the archive's other links: a -> ., b -> a/.. is outside though its text is not", () => {
    const links = new Map([
      ["a", "."],
      ["b", "a/.."],
      ["h", "b/.."],
    ]);
    expect(linkProblem("a", ".", links)).toBeUndefined();
    expect(linkProblem("b", "a/..", links)).toBe("symlink points outside");
    expect(linkProblem("h", "b/..", links)).toBe("symlink points outside");
  });
});

describe("resolveInRoot", () => {
  const links = new Map([
    ["lib64", "lib"],
    ["lib/cur", "libx.so.1"],
    ["d/up", ".."],
    ["loop", "loop/x"],
    ["abs", "/etc"],
  ]);

  it.each([
    ["lib64/cur", "lib/libx.so.1"],
    ["lib64/../lib64/./cur", "lib/libx.so.1"],
    ["d/up", ""],
    ["d/up/lib64", "lib"],
    ["missing/../lib64", "lib"],
  ])("resolves %s to %j", (path, resolved) => {
    expect(resolveInRoot(path, links)).toEqual({ path: resolved });
  });

  it.each([
    ["d/up/..", "symlink points outside"],
    ["missing/../..", "symlink points outside"],
    ["abs/passwd", "symlink points outside"],
    ["loop", "symlink loop"],
  ])("refuses %s: %s", (path, problem) => {
    expect(resolveInRoot(path, links)).toEqual({ problem });
  });
});
