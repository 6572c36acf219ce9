/**
 * `lava-aurora demo` as a user runs it (the built CLI): the whole story with every check
 * holding, nothing left behind afterwards (each run gets a private TMPDIR, so leftovers and
 * processes are easy to find), Ctrl-C mid-story, `--keep` with its printed commands, and a
 * machine without PostgreSQL.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLI, REPO, runCli } from "../support/cli";

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "lava-demo-test-"));
  // The server runs as the `postgres` OS user when we are root: it must reach its data dir.
  await chmod(tmp, 0o755);
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Command lines of running processes that mention the private TMPDIR (postgres, watchdogs). */
function processesUnderTmp(): string[] {
  return execFileSync("ps", ["-eo", "args"])
    .toString()
    .split("\n")
    .filter((l) => l.includes(tmp));
}

async function expectNothingLeft(): Promise<void> {
  expect(await readdir(tmp)).toEqual([]);
  expect(processesUnderTmp()).toEqual([]);
}

/** A running `lava-aurora demo …` whose output can be awaited line by line. */
function startDemo(args: string[]): {
  child: ChildProcess;
  output: () => string;
  waitFor: (text: string) => Promise<void>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, "demo", ...args], {
    cwd: REPO,
    env: { ...process.env, TMPDIR: tmp, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: Array<{ text: string; done: () => void }> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.filter((x) => out.includes(x.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.done();
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (text) =>
      out.includes(text)
        ? Promise.resolve()
        : new Promise((done, fail) => {
            waiters.push({ text, done });
            exited.then(() => fail(new Error(`exited before printing ${text}:\n${out}`)));
          }),
  };
}

describe("lava-aurora demo", () => {
  it("tells the whole story, every check holding, exits 0 and leaves nothing behind", async () => {
    // Act
    const r = await runCli(["demo"], { env: { TMPDIR: tmp, NO_COLOR: "1" } });
    // Assess
    expect(r.stderr).toBe("");
    expect(r.code, r.stdout).toBe(0);
    const out = r.stdout;
    expect(out).not.toContain("✗");
    expect(out).not.toContain("\x1b[");
    expect(out).toMatch(/✓ PostgreSQL \d+\.\d+.* on 127\.0\.0\.1:\d+, TLS only/);
    expect(out).toContain("✓ realm demo: 2 connections, 8 jobs, valid");
    expect(out).toContain("stored /lava/demo/club-loader (SecureString, version 1");
    expect(out).toContain("✓ ok: 6 rows into club.members_a (aws_s3 import)");
    expect(out).toMatch(/✓ over TLSv1\.\d \(server log\), certificate verified/);
    expect(out).toContain("✓ ok: 7 rows into club.members_b (aws_s3 import)");
    expect(out).toContain("✓ club.members_a emptied, in the same transaction");
    expect(out).toContain("✓ skipped: duplicate");
    expect(out).toContain("✓ club.members_a and club.members_b unchanged");
    expect(out).toContain("✓ failed: BadDataError");
    expect(out.replace(/\n\s+/g, " ")).toContain(
      '✓ the error names the object and the line: bad data in s3://custard-landing/members/2026-07.csv: line 5, column joined: invalid input syntax for type date: "next Tuesday"',
    );
    expect(out.replace(/\n\s+/g, " ")).toContain(
      "✓ nothing changed: club.members_b still holds June's members, club.members_a is still empty",
    );
    // After the failed load the table still shows June's members, Hyacinth included.
    const afterBad = out.slice(out.indexOf("✓ nothing changed"));
    expect(afterBad).toMatch(
      /club\.members_b: 7 rows[\s\S]*8 +Hyacinth Jelly +2026-06-18 +lemon curd/,
    );
    expect(out).toContain("✓ ok: 5 rows into club.tastings (aws_s3 import)");
    expect(out).toContain("✓ the copy is deleted: s3://lava-demo-temp is empty");
    expect(out).toContain("✓ the source is untouched: same ETag and Last-Modified");
    expect(out).toContain("✓ ok: 6 rows into club.orders (client COPY)");
    expect(out).toContain("✓ one transaction, one ledger row per file");
    expect(out).toContain("committed together");
    expect(out.replace(/\n\s+/g, " ")).toMatch(
      /✓ failed: DatabaseServerError: payload\[2\] statement 0 \(line 1\): numeric field overflow/,
    );
    expect(out).toContain("✓ rolled back: club.order_book unchanged");
    // mode merge: May's list, then June's DMS changes (Op first), through aws_s3.
    const flat = out.replace(/\n\s+/g, " ");
    expect(flat).toContain(
      "✓ ok: 6 rows merged into club.member_book (aws_s3 import): 6 inserted, 0 updated, 0 deleted",
    );
    expect(flat).toContain(
      "✓ ok: 6 rows merged into club.member_book (aws_s3 import): 2 inserted, 1 updated, 1 deleted",
    );
    expect(flat).toContain("✓ Bartholomew deleted, Desmond's favourite changed");
    expect(flat).toContain("✓ only members 4, 7 and 8 written (xmin)");
    expect(out).toMatch(
      /club\.member_book: 7 rows[\s\S]*4 +Desmond Brûlée +2022-02-02 +salted caramel/,
    );
    // Quarantine: two bad rows set aside in s3_temp, the rest committed; one allowed: nothing.
    expect(out).toContain("✓ ok: 4 rows into club.tastings, 2 set aside (client COPY)");
    expect(flat).toContain(
      "connection club-aurora: on_bad_rows/lineage load through client COPY from this process",
    );
    expect(flat).toContain(
      "✓ the bad rows are in s3://lava-demo-temp/demo/club/tastings-csv/<run_id>/rejects.csv",
    );
    expect(flat).toContain(
      's3://custard-landing/tastings/2026-08.csv,4,22P02,"invalid input syntax for type integer: ""five""","2026-08-08,3,butterscotch,five"',
    );
    expect(flat).toContain(
      's3://custard-landing/tastings/2026-08.csv,6,22008,"date/time field value out of range: ""2026-08-32""","2026-08-32,4,salted caramel,4"',
    );
    expect(out).toMatch(/club\.tastings: 9 rows/);
    expect(flat).toContain("more than 1 bad rows (max_bad_rows)");
    expect(flat).toContain(
      "✓ nothing changed: club.tastings holds the same 9 rows, and no reject file was written",
    );
    expect(out).toContain("✓ PostgreSQL stopped, S3 server and SSM stub closed");
    expect(out).toMatch(/✓ All 40 checks held, in \d+\.\d s\.\n$/);
    expect(out.match(/^\d+\. /gm)).toHaveLength(17);
    await expectNothingLeft();
  });

  it("stops and removes everything on Ctrl-C mid-story, exiting 130", async () => {
    // Prepare
    const demo = startDemo([]);
    await demo.waitFor("Load May's members");
    // Act
    demo.child.kill("SIGINT");
    // Assess
    expect(await demo.exited).toBe(130);
    expect(demo.output()).toContain("SIGINT: stopping and cleaning up");
    await expectNothingLeft();
  });

  it("--keep leaves the world running, the printed commands connect, Ctrl-C cleans up", async () => {
    // Prepare
    const demo = startDemo(["--keep"]);
    await demo.waitFor("Press Ctrl-C here");
    const out = demo.output();
    const env = Object.fromEntries(
      [...out.matchAll(/^ {2}export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    const realmFile = /npx lava-aurora psql club-aurora --realm-file (\S+)$/m.exec(out)?.[1];
    expect(Object.keys(env)).toContain("AWS_ENDPOINT_URL_SSM");
    expect(realmFile).toBeDefined();
    // Act
    const psql = await runCli(
      [
        "psql",
        "club-aurora",
        "--realm-file",
        realmFile ?? "",
        "--",
        "-tA",
        "-c",
        "SELECT count(*) FROM club.members_b",
      ],
      { env: { ...env, AWS_PROFILE: undefined } },
    );
    demo.child.kill("SIGINT");
    // Assess
    expect(psql.stderr).not.toMatch(/error/i);
    expect(psql).toMatchObject({ code: 0, stdout: "7\n" });
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toMatch(/✓ All \d+ checks held/);
    await expectNothingLeft();
  });

  it("exits 1 saying how to get PostgreSQL when there are no server binaries", async () => {
    // Act
    const r = await runCli(["demo"], {
      env: { LAVA_PG_BIN: "/nonexistent", PATH: "/nonexistent-bin", TMPDIR: tmp },
    });
    // Assess
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("lava-aurora demo: cannot start:");
    expect(r.stderr).toContain("LAVA_PG_BIN=/nonexistent does not hold initdb, pg_ctl, postgres");
    expect(r.stderr).toContain("Debian/Ubuntu: sudo apt-get install postgresql");
    expect(r.stderr).toContain("macOS:         brew install postgresql@15");
    await expectNothingLeft();
  });
});

describe("lava-aurora demo on a machine whose PostgreSQL cannot start", () => {
  let fakeBin: string;

  beforeEach(async () => {
    fakeBin = await mkdtemp(join(tmpdir(), "lava-fake-pg-"));
    await chmod(fakeBin, 0o755);
    for (const b of ["initdb", "pg_ctl", "postgres"]) {
      await writeFile(join(fakeBin, b), `#!/bin/sh\necho "${b} refuses" >&2\nexit 1\n`);
      await chmod(join(fakeBin, b), 0o755);
    }
  });

  afterEach(async () => {
    await rm(fakeBin, { recursive: true, force: true });
  });

  it("says what failed, cleans up and exits 1", async () => {
    const r = await runCli(["demo"], { env: { LAVA_PG_BIN: fakeBin, TMPDIR: tmp, NO_COLOR: "1" } });
    expect(r.code).toBe(1);
    expect(r.stdout.replace(/\n\s+/g, " ")).toMatch(/✗ cannot go on: initdb .* failed/);
    expect(r.stdout).toContain("initdb refuses");
    expect(r.stdout).toMatch(/✗ 1 of \d+ checks failed/);
    await expectNothingLeft();
  });
});
