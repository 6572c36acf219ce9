// Bundles the `lava-aurora` CLI into dist/ (run by `npm ci` through `prepare`).
// ESM with code splitting: each command's code, pg and the AWS SDK load only when used.
// The bundle is built beside dist/ and moved in file by file, each a rename, the
// entry last: a command started meanwhile runs the old bundle or the new one, never
// a missing or half-written file.
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

// npm also runs `prepare` when `npx lava-aurora` first installs this checkout into
// its cache (npm_command "exec"): keep the bundle `npm ci` built.
if (process.env.npm_command === "exec" && existsSync("dist/lava-aurora.js")) process.exit(0);

const { version } = JSON.parse(await readFile("package.json", "utf8"));
const next = `dist.next-${process.pid}`;
await build({
  entryPoints: { "lava-aurora": "bin/lava-aurora.ts" },
  outdir: next,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Prefer the ES module builds (the AWS SDK ships both): named exports of dynamic
  // imports then survive bundling, which esbuild cannot see through CommonJS.
  mainFields: ["module", "main"],
  // The demo's S3 server (s3rver, CommonJS with file-relative requires) loads from node_modules.
  external: ["s3rver"],
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  minifySyntax: true,
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
  define: { __LAVA_AURORA_VERSION__: JSON.stringify(version) },
  banner: {
    // CommonJS dependencies (pg, …) call require(); give the ESM bundle one.
    js: "#!/usr/bin/env node\nimport { createRequire as __lavaCreateRequire } from 'node:module';\nconst require = __lavaCreateRequire(import.meta.url);",
  },
});
await chmod(`${next}/lava-aurora.js`, 0o755);
const ENTRY = ["lava-aurora.js.map", "lava-aurora.js"];
const built = (await readdir(next, { recursive: true, withFileTypes: true }))
  .filter((e) => e.isFile())
  .map((e) => join(e.parentPath, e.name).slice(next.length + 1));
for (const file of [...built.filter((f) => !ENTRY.includes(f)), ...ENTRY]) {
  await mkdir(join("dist", file, ".."), { recursive: true });
  await rename(join(next, file), join("dist", file));
}
await rm(next, { recursive: true, force: true });
// Chunks the new entry no longer names (content-hashed: any change makes new ones).
for (const e of await readdir("dist", { recursive: true, withFileTypes: true })) {
  const file = join(e.parentPath, e.name).slice("dist/".length);
  if (e.isFile() && !built.includes(file)) await rm(join("dist", file));
}
