import { describe, expect, it } from "vitest";
import { missingTools } from "../../global-setup";

describe("the suite's tool check", () => {
  it("names each missing tool with what needs it and how to install it, one line each", () => {
    const missing = missingTools((cmd) => cmd !== "zstd" && cmd !== "xz");
    expect(missing).toEqual([
      "xz (for pkg payloads (.tar.xz)): apt-get install xz-utils",
      "zstd (for pkg payloads (.tar.zst)): apt-get install zstd",
    ]);
  });

  it("finds everything on this machine", () => {
    expect(missingTools()).toEqual([]);
  });
});
