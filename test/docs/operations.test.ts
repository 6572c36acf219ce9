/**
 * docs/operations.md stays true where that is mechanical: the run log's DDL is
 * the code's, every command §4 names exists in the CLI and takes --json.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { RUN_LOG_DDL } from "../../lambda/jobs/run-log";
import { REPO } from "../support/cli";

const run = promisify(execFile);
const page = readFileSync(join(REPO, "docs/operations.md"), "utf8");
const section = (n: number) => page.split(/^## /m).find((s) => s.startsWith(`${n} `)) ?? "";

describe("docs/operations.md", () => {
  it("shows the run log DDL the code uses", () => {
    const ddl = [...section(3).matchAll(/^```sql\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
    expect(ddl.map((d) => d.trim())).toContain(RUN_LOG_DDL);
  });

  it("names commands that exist and take --json", async () => {
    const commands = [...section(4).matchAll(/^\| `lava-aurora ([a-z-]+)/gm)].map((m) => m[1]);
    expect(commands).toEqual(["runs", "tail", "show", "redrive"]);
    for (const c of commands) {
      const { stdout } = await run(process.execPath, [
        join(REPO, "dist/lava-aurora.js"),
        c ?? "",
        "--help",
      ]);
      expect(stdout, c).toContain("--json");
    }
  });
});
