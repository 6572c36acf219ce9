// Bundles the `lava-aurora` CLI into dist/ (run by `npm ci` through `prepare`).
// ESM with code splitting: each command's code, pg and the AWS SDK load only when used.
import { chmod, readFile, rm } from "node:fs/promises";
import { build } from "esbuild";

const { version } = JSON.parse(await readFile("package.json", "utf8"));
await rm("dist", { recursive: true, force: true });
await build({
  entryPoints: { "lava-aurora": "bin/lava-aurora.ts" },
  outdir: "dist",
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
await chmod("dist/lava-aurora.js", 0o755);
