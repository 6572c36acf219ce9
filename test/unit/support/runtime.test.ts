import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("the test runtime", () => {
  it("is the Node.js major the functions deploy on (the pinned node devDependency)", () => {
    // Prepare: the functions' runtime, as the stack sets it.
    const construct = readFileSync(
      new URL("../../../lib/constructs/realm-function.ts", import.meta.url),
      "utf8",
    );
    const runtime = /Runtime\.NODEJS_(\d+)_X/.exec(construct)?.[1];
    const pinned = JSON.parse(
      readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
    ).devDependencies.node as string;
    // Assess
    expect(runtime).toBeDefined();
    expect(pinned.split(".")[0]).toBe(runtime);
    expect(process.versions.node.split(".")[0]).toBe(runtime);
  });
});
