/**
 * The CLI bundle (scripts/build.mjs) is replaced whole: a command started while it
 * rebuilds finds the old bundle or the new one, never none. npm also runs the
 * build as `prepare` when `npx lava-aurora` first installs the checkout into its
 * cache; that run keeps the bundle `npm ci` made rather than rebuilding it under
 * running commands (a CI run once lost dist/ under a CLI test that way).
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../../support/cli";

let dir: string;

function build(env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "scripts/build.mjs")], {
      cwd: dir,
      env: { ...process.env, npm_command: "", ...env },
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("exit", resolve);
  });
}

beforeAll(async () => {
  // A build directory of its own, so the suite's dist/ is never touched.
  dir = await mkdtemp(join(tmpdir(), "lava-build-"));
  for (const name of ["bin", "lambda", "node_modules", "package.json"])
    await symlink(join(REPO, name), join(dir, name));
  expect(await build()).toBe(0);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("scripts/build.mjs", () => {
  it("replaces the bundle file by file: it is there at every moment of a rebuild", async () => {
    const bundle = join(dir, "dist", "lava-aurora.js");
    const before = statSync(bundle).ino;
    let checks = 0;
    let missing = 0;
    const done = build();
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    while (!finished) {
      checks++;
      if (!existsSync(bundle)) missing++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await done).toBe(0);
    expect(checks).toBeGreaterThan(50);
    expect(missing).toBe(0);
    // It did rebuild, and left no staging directories behind.
    expect(statSync(bundle).ino).not.toBe(before);
    expect((await readdir(dir)).filter((n) => n.startsWith("dist"))).toEqual(["dist"]);
    expect(statSync(bundle).mode & 0o111).not.toBe(0);
  }, 60_000);

  it("keeps the bundle npm ci built when npm runs it as prepare for npx (npm_command exec)", async () => {
    const bundle = join(dir, "dist", "lava-aurora.js");
    const before = statSync(bundle).ino;
    expect(await build({ npm_command: "exec" })).toBe(0);
    expect(statSync(bundle).ino).toBe(before);
  }, 60_000);

  it("builds under npx when there is no bundle yet", async () => {
    await rm(join(dir, "dist"), { recursive: true });
    expect(await build({ npm_command: "exec" })).toBe(0);
    expect(existsSync(join(dir, "dist", "lava-aurora.js"))).toBe(true);
  }, 60_000);
});
