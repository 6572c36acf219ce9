// Bundles the runner handler for the exe container image (lambda/exe.Dockerfile):
// the same code as the runner function, with the realm from $LAVA_REALM (base64) defined in.
import { build } from "esbuild";

const realm = process.env.LAVA_REALM;
if (!realm || !/^[A-Za-z0-9+/=]+$/.test(realm))
  throw new Error("LAVA_REALM must hold the base64 realm bundle");
await build({
  entryPoints: { index: "lambda/handlers/runner.ts" },
  outdir: "dist-exe",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node24",
  mainFields: ["module", "main"],
  minify: true,
  sourcemap: true,
  outExtension: { ".js": ".mjs" },
  define: { __LAVA_REALM__: JSON.stringify(realm) },
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
});
