/** Builds the CLI bundle once before the tests, so CLI tests never run a stale dist/. */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
