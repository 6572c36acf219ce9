/**
 * Once before the tests: check the tools the suite needs (a missing one stops it
 * with one line naming the tool and how to install it, instead of failing tests
 * one by one), then build the CLI bundle so CLI tests never run a stale dist/.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Tools the product calls (psql connectors, tar's compressors for pkg payloads) or the harness uses. */
const TOOLS: readonly { readonly cmd: string; readonly why: string; readonly apt: string }[] = [
  { cmd: "psql", why: "the psql connectors", apt: "postgresql-client" },
  { cmd: "openssl", why: "the test PKI", apt: "openssl" },
  { cmd: "curl", why: "the aws_s3 stand-in", apt: "curl" },
  { cmd: "tar", why: "pkg payloads", apt: "tar" },
  { cmd: "gzip", why: "pkg payloads (.tar.gz)", apt: "gzip" },
  { cmd: "bzip2", why: "pkg payloads (.tar.bz2)", apt: "bzip2" },
  { cmd: "xz", why: "pkg payloads (.tar.xz)", apt: "xz-utils" },
  { cmd: "zstd", why: "pkg payloads (.tar.zst)", apt: "zstd" },
];

function onPath(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** The missing tools, one line each; empty when everything is there. */
export function missingTools(has: (cmd: string) => boolean = onPath): string[] {
  const lines = TOOLS.filter((t) => !has(t.cmd)).map(
    (t) => `${t.cmd} (for ${t.why}): apt-get install ${t.apt}`,
  );
  const python = "/usr/bin/python3";
  const imports = "import jinja2, dateutil, sqlparse";
  const oracle =
    existsSync(python) && spawnSync(python, ["-c", imports], { stdio: "ignore" }).status === 0;
  if (!oracle)
    lines.push(
      "Jinja2, dateutil and sqlparse for /usr/bin/python3 (the template and SQL-splitter tests' oracles): apt-get install python3-jinja2 python3-dateutil python3-sqlparse",
    );
  return lines;
}

export default function setup(): void {
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(`the test suite needs, and this machine lacks:\n  ${missing.join("\n  ")}`);
  }
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
