import { describe, expect, it } from "vitest";
import { symlinkEscapes, zipEntryPath } from "../../../../lambda/jobs/exe/zip";

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

describe("symlinkEscapes", () => {
  it.each([
    ["bin/run", "../lib/run.sh"],
    ["link", "bin/run.sh"],
    ["a/b/link", "../../c"],
    ["a/link", "."],
  ])("allows %s -> %s (inside)", (entry, target) => {
    expect(symlinkEscapes(entry, target)).toBe(false);
  });

  it.each([
    ["link", "/etc/passwd"],
    ["link", ".."],
    ["link", "../x"],
    ["a/link", "../../x"],
    ["a/link", "b/../../../x"],
    ["link", ""],
  ])("refuses %s -> %j (outside or empty)", (entry, target) => {
    expect(symlinkEscapes(entry, target)).toBe(true);
  });
});
