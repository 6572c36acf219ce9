/**
 * exe and pkg jobs against s3rver (docs/exe-pkg.md): payload-line and rendered
 * arguments, the environment, outputs streamed to s3_temp, exit codes,
 * timeouts that kill the whole process group, tar and zip packages, payload
 * prefixes, literal dispatched parameters. The psql connections have their
 * own tests; here the broker is a stand-in that records how it is used.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { Dispatch, JobResult, RunOptions } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { useLoadWorld } from "../support/load-world";
import { buildZip } from "../support/zip";

const broker = vi.hoisted(() => ({
  starts: [] as { labels: Record<string, string>; dir: string; applicationName: string }[],
  closes: 0,
}));

vi.mock("../../lambda/jobs/exe/connections", () => ({
  startConnectionBroker: async (options: {
    labels: Record<string, string>;
    dir: string;
    applicationName: string;
  }) => {
    broker.starts.push({
      labels: options.labels,
      dir: options.dir,
      applicationName: options.applicationName,
    });
    const env: Record<string, string> = {};
    for (const [label, connId] of Object.entries(options.labels)) {
      env[`LAVA_CONN_${label.toUpperCase()}`] = join(options.dir, label);
      env[`LAVA_CONNID_${label.toUpperCase()}`] = connId;
    }
    return {
      env,
      close: async () => {
        broker.closes += 1;
      },
    };
  },
}));

const world = useLoadWorld();
const TOP = { s3_payloads: "s3://payloads/dev", s3_temp: "s3://lava-temp/dev" };

beforeAll(async () => {
  await world.s3.createBucket("payloads");
  await world.s3.createBucket("lava-temp");
});

const sh = (body: string) => `#!/bin/sh\n${body}\n`;
const put = (key: string, body: string | Buffer) => world.s3.put("payloads", `dev/${key}`, body);

function job(
  jobId: string,
  type: "exe" | "pkg",
  payload: string,
  parameters: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return { job_id: jobId, type, enabled: true, payload, parameters, ...extra };
}

const realmWith = (jobs: Record<string, unknown>[], top: Record<string, unknown> = TOP): Realm =>
  world.realm(jobs, {}, top);

async function run(realm: Realm, dispatch: Dispatch, options?: RunOptions): Promise<JobResult> {
  return world.run(realm, dispatch, options);
}

/** The saved stdout or stderr of a run; `undefined` when no object was written. */
async function output(r: JobResult, stream: "stdout" | "stderr"): Promise<string | undefined> {
  try {
    const body = await world.s3.get("lava-temp", `dev/${r.job_id}/${r.run_id}/${stream}`);
    return body.toString("utf8");
  } catch (err) {
    if ((err as Error).name === "NoSuchKey") return undefined;
    throw err;
  }
}

/** Whether a process is gone (zombies, dead but unreaped by PID 1, count as gone). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("exe jobs", () => {
  it("passes payload-line args then rendered args, rendered env and the LAVA_* environment", async () => {
    vi.stubEnv("PGPASSWORD", "runner-secret");
    vi.stubEnv("PGHOST", "runner-host");
    await put(
      "scripts/show.sh",
      sh(
        [
          `for a in "$@"; do echo "arg=[$a]"; done`,
          `echo "greeting=$GREETING count=$COUNT"`,
          `echo "job=$LAVA_JOB_ID run=$LAVA_RUN_ID realm=$LAVA_REALM owner=[$LAVA_OWNER]"`,
          `echo "payload=$LAVA_S3_PAYLOAD"`,
          `echo "tmp=$LAVA_S3_TMP"`,
          `echo "pg=[$PGPASSWORD$PGHOST]"`,
          `echo "cwd=$PWD"`,
          `test -t 0 || read -r line || echo "stdin empty"`,
          `echo "to stderr" >&2`,
        ].join("\n"),
      ),
    );
    const realm = realmWith([
      job(
        "ops/show",
        "exe",
        "scripts/show.sh first 'two words'",
        {
          args: ["{{ realm.realm }}-{{ globals.day }}", "{{ vars.v | upper }}"],
          env: { GREETING: "hello {{ job.owner }}", COUNT: 3 },
          vars: { v: "x" },
        },
        { owner: "team-a", globals: { day: "mon" } },
      ),
    ]);
    const r = await run(realm, { job_id: "ops/show" }, { runId: "run-1" });
    expect(r).toMatchObject({ status: "ok", exit_code: 0, run_id: "run-1" });
    const out = (await output(r, "stdout")) ?? "";
    expect(out.split("\n").filter((l) => l.startsWith("arg="))).toEqual([
      "arg=[first]",
      "arg=[two words]",
      "arg=[dev-mon]",
      "arg=[X]",
    ]);
    expect(out).toContain("greeting=hello team-a count=3\n");
    expect(out).toContain("job=ops/show run=run-1 realm=dev owner=[team-a]\n");
    expect(out).toContain("payload=s3://payloads/dev/scripts/show.sh\n");
    expect(out).toContain("tmp=s3://lava-temp/dev/ops/show/run-1\n");
    expect(out).toContain("pg=[]\n");
    expect(out).toContain("stdin empty\n");
    expect(await output(r, "stderr")).toBe("to stderr\n");
    // The private directory is gone.
    const cwd = /cwd=(.*)/.exec(out)?.[1] ?? "";
    expect(cwd).toContain("lava-exe-");
    expect(existsSync(dirname(dirname(cwd)))).toBe(false);
    // Events name the executable and its exit code, never env values.
    expect(r.events.join("\n")).toContain("s3://payloads/dev/scripts/show.sh: exit code 0");
    expect(JSON.stringify(r)).not.toContain("hello team-a");
  });

  it("gives the payload an allow-listed environment: none of the runner's AWS credentials or other variables, the job's env still", async () => {
    // Prepare: the runner's environment holds credentials that read every realm password.
    world.s3.allowAccessKey("AKIARUNNERKEY", "runner-secret-key");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIARUNNERKEY");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "runner-secret-key");
    vi.stubEnv("AWS_SESSION_TOKEN", "runner-session-token");
    vi.stubEnv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1/ssm");
    vi.stubEnv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds");
    vi.stubEnv("NODE_OPTIONS", "--require=/nonexistent/runner-hook.js");
    vi.stubEnv("RUNNER_ONLY_SETTING", "runner-private");
    vi.stubEnv("LANG", "C.UTF-8");
    vi.stubEnv("LC_ALL", "C.UTF-8");
    vi.stubEnv("TZ", "UTC");
    await put("scripts/env.sh", sh("env"));
    const realm = realmWith([
      job("ops/env", "exe", "scripts/env.sh", {
        env: { JOB_SETTING: "from-the-job", AWS_REGION: "eu-west-1" },
      }),
    ]);
    // Act
    const r = await run(realm, { job_id: "ops/env" });
    // Assess
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    const out = (await output(r, "stdout")) ?? "";
    const vars = new Map(
      out
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
    );
    expect(out).not.toContain("runner-secret-key");
    expect(out).not.toContain("runner-session-token");
    expect(out).not.toContain("AKIARUNNERKEY");
    expect(out).not.toContain("runner-private");
    expect(out).not.toContain("runner-hook");
    expect(vars.get("JOB_SETTING")).toBe("from-the-job");
    expect(vars.get("AWS_REGION")).toBe("eu-west-1");
    expect(vars.get("PATH")).toBe(process.env.PATH);
    expect(vars.get("LANG")).toBe("C.UTF-8");
    expect(vars.get("LC_ALL")).toBe("C.UTF-8");
    expect(vars.get("TZ")).toBe("UTC");
    expect(vars.get("LAVA_JOB_ID")).toBe("ops/env");
    // Only the allow-list, the job's env, LAVA_* and what sh itself sets.
    const allowed =
      /^(PATH|HOME|TMPDIR|LANG|LANGUAGE|LC_[A-Z_]+|TZ|LD_LIBRARY_PATH|LAVA_[A-Z0-9_]+|JOB_SETTING|AWS_REGION|PWD|OLDPWD|SHLVL|_)$/;
    expect([...vars.keys()].filter((k) => !allowed.test(k))).toEqual([]);
  });

  it("writes no object for an empty stream", async () => {
    await put("scripts/quiet.sh", sh("echo only-err >&2"));
    await put("scripts/silent.sh", sh("exit 0"));
    const realm = realmWith([
      job("quiet", "exe", "scripts/quiet.sh"),
      job("silent", "exe", "scripts/silent.sh"),
    ]);
    const quiet = await run(realm, { job_id: "quiet" });
    expect(quiet.status).toBe("ok");
    expect(await output(quiet, "stdout")).toBeUndefined();
    expect(await output(quiet, "stderr")).toBe("only-err\n");
    const silent = await run(realm, { job_id: "silent" });
    expect(silent).toMatchObject({ status: "ok", exit_code: 0 });
    expect(await output(silent, "stdout")).toBeUndefined();
    expect(await output(silent, "stderr")).toBeUndefined();
  });

  it("streams a large output to one object (multipart)", async () => {
    await put("scripts/big.sh", sh("yes 0123456789abcdef | head -c 12000000"));
    const realm = realmWith([job("big", "exe", "scripts/big.sh")]);
    const r = await run(realm, { job_id: "big" });
    expect(r.status).toBe("ok");
    const body = await world.s3.get("lava-temp", `dev/big/${r.run_id}/stdout`);
    expect(body.length).toBe(12_000_000);
    expect(body.subarray(0, 17).toString()).toBe("0123456789abcdef\n");
  });

  it("fails an otherwise good run whose output cannot be saved, without blocking the payload", async () => {
    await put("scripts/big-out.sh", sh("yes 0123456789abcdef | head -c 12000000; echo done >&2"));
    await put("scripts/bad-exit.sh", sh("echo out; exit 2"));
    const realm = realmWith(
      [job("no-save", "exe", "scripts/big-out.sh"), job("bad-exit", "exe", "scripts/bad-exit.sh")],
      { ...TOP, s3_temp: "s3://no-such-bucket/dev" },
    );
    const r = await run(realm, { job_id: "no-save" });
    expect(r.status).toBe("failed");
    expect(r.error?.message).toMatch(
      /^cannot save s3:\/\/no-such-bucket\/dev\/no-save\/.+\/stdout: NoSuchBucket/,
    );
    expect(r.events.join("\n")).toContain("exit code 0");
    // The payload's own failure stays the run's error.
    const bad = await run(realm, { job_id: "bad-exit" });
    expect(bad).toMatchObject({ exit_code: 2, error: { name: "PayloadError" } });
  });

  it("fails on a non-zero exit with the exit code, keeping the output", async () => {
    await put("scripts/fail.sh", sh("echo partial; echo 'went wrong' >&2; exit 3"));
    const realm = realmWith([job("fail", "exe", "scripts/fail.sh")]);
    const r = await run(realm, { job_id: "fail" });
    expect(r).toMatchObject({
      status: "failed",
      exit_code: 3,
      error: {
        name: "PayloadError",
        message: "payload s3://payloads/dev/scripts/fail.sh exited with code 3",
        retryable: false,
      },
    });
    expect(await output(r, "stdout")).toBe("partial\n");
    expect(await output(r, "stderr")).toBe("went wrong\n");
  });

  it("kills the whole process group on timeout, children included, even when they ignore SIGTERM", async () => {
    await put(
      "scripts/hang.sh",
      sh(["trap '' TERM", "sleep 60 &", 'echo "child $!"', "sleep 60"].join("\n")),
    );
    const realm = realmWith([job("hang", "exe", "scripts/hang.sh", { timeout: "2s" })]);
    const t0 = Date.now();
    const r = await run(realm, { job_id: "hang" });
    const elapsed = Date.now() - t0;
    expect(r).toMatchObject({
      status: "failed",
      error: { name: "PayloadTimeoutError", retryable: false },
    });
    expect(r.error?.message).toContain("ran past its timeout of 2s");
    expect(r.exit_code).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(10_000);
    const pid = Number(/child (\d+)/.exec((await output(r, "stdout")) ?? "")?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(processGone(pid)).toBe(true);
  });

  it("caps the timeout by the run's deadline", async () => {
    await put("scripts/slow.sh", sh("sleep 30"));
    const realm = realmWith([job("slow", "exe", "scripts/slow.sh")]);
    const t0 = Date.now();
    const r = await run(realm, { job_id: "slow" }, { deadline: Date.now() + 7_000 });
    expect(r.error?.name).toBe("PayloadTimeoutError");
    expect(r.error?.message).toContain("ran past the run's deadline");
    expect(Date.now() - t0).toBeLessThan(7_000);
  });

  it("ends processes the payload left running after it exited", async () => {
    await put("scripts/leave.sh", sh(["sleep 60 >/dev/null 2>&1 &", 'echo "child $!"'].join("\n")));
    const realm = realmWith([job("leave", "exe", "scripts/leave.sh")]);
    const r = await run(realm, { job_id: "leave" });
    expect(r.status).toBe("ok");
    const pid = Number(/child (\d+)/.exec((await output(r, "stdout")) ?? "")?.[1]);
    expect(processGone(pid)).toBe(true);
  });

  it("runs every object under a payload prefix in lexicographic order, into one output", async () => {
    await put("multi/20-c.sh", sh('echo "c $1"'));
    await put("multi/02-a.sh", sh('echo "a $1 $LAVA_S3_PAYLOAD"'));
    await put("multi/10-b.sh", sh('echo "b $1"; echo "b err" >&2'));
    await put("multi/sub/", Buffer.alloc(0));
    const realm = realmWith([job("multi", "exe", "multi/ x")]);
    const r = await run(realm, { job_id: "multi" });
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect(await output(r, "stdout")).toBe("a x s3://payloads/dev/multi/02-a.sh\nb x\nc x\n");
    expect(await output(r, "stderr")).toBe("b err\n");
    expect(r.events.join("\n")).toContain("3 payload(s) under s3://payloads/dev/multi/");
  });

  it("stops a payload prefix at the first failure", async () => {
    await put("stops/1.sh", sh("echo one"));
    await put("stops/2.sh", sh("echo two; exit 4"));
    await put("stops/3.sh", sh("echo three"));
    const realm = realmWith([job("stops", "exe", "stops/")]);
    const r = await run(realm, { job_id: "stops" });
    expect(r).toMatchObject({ status: "failed", exit_code: 4, error: { name: "PayloadError" } });
    expect(await output(r, "stdout")).toBe("one\ntwo\n");
  });

  it("renders dispatched args and env as lava does, except what the dispatch marks literal, and nothing with jinja: false", async () => {
    await put("scripts/echo.sh", sh('echo "$@|$X"'));
    const realm = realmWith([
      job("echo", "exe", "scripts/echo.sh", {
        args: ["{{ job.job_id }}"],
        env: { X: "{{ job.job_id }}" },
      }),
      job("raw", "exe", "scripts/echo.sh", {
        args: ["{{ job.job_id }}"],
        env: { X: "{{ job.job_id }}" },
        jinja: false,
      }),
    ]);
    const own = await run(realm, { job_id: "echo" });
    expect(await output(own, "stdout")).toBe("echo|echo\n");
    const parameters = {
      args: ["{{ 7 * 6 }}", "{% raw %}{{{% endraw %}"],
      env: { X: "{{ job.job_id }}" },
    };
    const dispatched = await run(realm, { job_id: "echo", parameters });
    expect(await output(dispatched, "stdout")).toBe("42 {{|echo\n");
    const literal = await run(realm, {
      job_id: "echo",
      parameters,
      literal_parameters: ["args", "env"],
    });
    expect(await output(literal, "stdout")).toBe(
      "{{ 7 * 6 }} {% raw %}{{{% endraw %}|{{ job.job_id }}\n",
    );
    const raw = await run(realm, { job_id: "raw" });
    expect(await output(raw, "stdout")).toBe("{{ job.job_id }}|{{ job.job_id }}\n");
  });

  it("renders the payload line's arguments and a pkg command's, as lava does", async () => {
    await put("scripts/echo.sh", sh('echo "$@"'));
    const realm = realmWith([
      // As in lava's docs: the line is split like a shell line first, so no spaces inside {{ }}.
      job("line", "exe", "scripts/echo.sh --level {{vars.level}} -y", {
        vars: { level: "info" },
        args: ["{{ vars.level | upper }}"],
      }),
      job("plain", "exe", "scripts/echo.sh --level {{vars.level}}", {
        vars: { level: "info" },
        jinja: false,
      }),
    ]);
    const line = await run(realm, { job_id: "line" });
    expect(line).toMatchObject({ status: "ok" });
    expect(await output(line, "stdout")).toBe("--level info -y INFO\n");
    const plain = await run(realm, { job_id: "plain" });
    expect(plain).toMatchObject({ status: "ok" });
    expect(await output(plain, "stdout")).toBe("--level {{vars.level}}\n");
  });

  it("fails before any S3 work without s3_temp, a payload, or with shell syntax in it", async () => {
    const realm = realmWith(
      [
        job("no-temp", "exe", "scripts/echo.sh"),
        { job_id: "no-payload", type: "exe", enabled: true },
        job("piped", "exe", "scripts/echo.sh | tee x"),
        job("no-command", "pkg", "pkgs/x.tar.gz"),
      ],
      { s3_payloads: TOP.s3_payloads },
    );
    const noTemp = await run(realm, { job_id: "no-temp" });
    expect(noTemp.error).toMatchObject({
      name: "SpecError",
      message: "job no-temp: the realm has no s3_temp (exe jobs save stdout and stderr there)",
    });
    expect((await run(realm, { job_id: "no-payload" })).error?.message).toContain(
      "job no-payload: payload: required for exe jobs",
    );
    expect((await run(realm, { job_id: "piped" })).error?.message).toContain(
      "job piped: payload: the operator | is not allowed",
    );
    expect((await run(realm, { job_id: "no-command" })).error?.message).toContain(
      "job no-command: parameters.command: required for pkg jobs",
    );
  });

  it("fails with ObjectMissingError for a missing payload or an empty prefix", async () => {
    const realm = realmWith([job("gone", "exe", "nope.sh"), job("empty", "exe", "nothing/")]);
    expect((await run(realm, { job_id: "gone" })).error).toMatchObject({
      name: "ObjectMissingError",
      message: "payload s3://payloads/dev/nope.sh does not exist",
    });
    expect((await run(realm, { job_id: "empty" })).error?.message).toBe(
      "payload prefix s3://payloads/dev/nothing/ holds no objects",
    );
  });

  it("merges the connection broker's env and closes it whatever the outcome", async () => {
    await put("scripts/conn.sh", sh('echo "$LAVA_CONNID_WH $LAVA_CONN_WH"; exit "$1"'));
    const realm = realmWith([job("conn", "exe", "scripts/conn.sh", { connections: { wh: "pg" } })]);
    broker.starts.length = 0;
    broker.closes = 0;
    const ok = await run(realm, { job_id: "conn", parameters: { args: ["0"] } });
    expect(ok.status).toBe("ok");
    const [start] = broker.starts;
    expect(start).toMatchObject({ labels: { wh: "pg" }, applicationName: "lv-dev-conn" });
    expect(start?.dir).toContain("lava-exe-");
    expect(await output(ok, "stdout")).toBe(`pg ${join(start?.dir ?? "", "wh")}\n`);
    expect(existsSync(dirname(start?.dir ?? "/"))).toBe(false);
    const failed = await run(realm, { job_id: "conn", parameters: { args: ["5"] } });
    expect(failed.exit_code).toBe(5);
    expect(broker.closes).toBe(2);
  });
});

describe("pkg jobs", () => {
  const exec = promisify(execFile);
  const RUN_SH = sh('echo "pkg $* in $(basename "$PWD")"; cat data/msg.txt');

  /** A tar archive of bin/run.sh and data/msg.txt, compressed with `flag`. */
  async function tarball(flag: string): Promise<Buffer> {
    const dir = await mkdtemp(join(tmpdir(), "lava-pkg-src-"));
    try {
      await mkdir(join(dir, "src/bin"), { recursive: true });
      await mkdir(join(dir, "src/data"));
      await writeFile(join(dir, "src/bin/run.sh"), RUN_SH, { mode: 0o755 });
      await writeFile(join(dir, "src/data/msg.txt"), "message\n");
      await exec("tar", ["-c", flag, "-f", join(dir, "p.tar"), "-C", join(dir, "src"), "."]);
      return await readFile(join(dir, "p.tar"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it.each([
    ["tool.tar.gz", "-z"],
    ["tool.tar.bz2", "-j"],
    ["tool.tar.xz", "-J"],
    ["tool.tar.zst", "--zstd"],
    ["tool.tar", "--no-auto-compress"],
  ])("unpacks %s and runs the command inside it", async (name, flag) => {
    await put(`pkgs/${name}`, await tarball(flag));
    const jobId = `pkg-${name.replaceAll(".", "-")}`;
    const realm = realmWith([
      job(jobId, "pkg", `pkgs/${name} b`, {
        command: "bin/run.sh a {{job.job_id}}",
        args: ["{{ realm.realm }}"],
      }),
    ]);
    const r = await run(realm, { job_id: jobId });
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    // The command's arguments are rendered as lava renders them.
    expect(await output(r, "stdout")).toBe(`pkg a ${jobId} b dev in 0\nmessage\n`);
  });

  it("unpacks a zip and runs the command inside it", async () => {
    await put(
      "pkgs/tool.zip",
      buildZip([
        { name: "bin/run.sh", data: RUN_SH, mode: 0o100755 },
        { name: "data/msg.txt", data: "message\n" },
      ]),
    );
    const realm = realmWith([job("pkg-zip", "pkg", "pkgs/tool.zip", { command: "bin/run.sh a" })]);
    const r = await run(realm, { job_id: "pkg-zip" });
    expect(r).toMatchObject({ status: "ok", exit_code: 0 });
    expect(await output(r, "stdout")).toBe("pkg a in 0\nmessage\n");
  });

  it("refuses a zip entry escaping the package, and a command outside it or missing", async () => {
    await put("pkgs/evil.zip", buildZip([{ name: "../../evil.sh", data: "x" }]));
    await put("pkgs/ok.zip", buildZip([{ name: "bin/run.sh", data: RUN_SH, mode: 0o100755 }]));
    const realm = realmWith([
      job("evil", "pkg", "pkgs/evil.zip", { command: "evil.sh" }),
      job("outside", "pkg", "pkgs/ok.zip", { command: "../../../bin/sh -c 'echo hi'" }),
      job("missing", "pkg", "pkgs/ok.zip", { command: "bin/nope.sh" }),
    ]);
    const evil = await run(realm, { job_id: "evil" });
    expect(evil.status).toBe("failed");
    expect(evil.error?.message).toMatch(/^cannot unpack zip: /);
    const outside = await run(realm, { job_id: "outside" });
    expect(outside.error).toMatchObject({
      name: "PayloadError",
      message:
        "payload s3://payloads/dev/pkgs/ok.zip: command: ../../../bin/sh is outside the package",
    });
    expect((await run(realm, { job_id: "missing" })).error?.message).toBe(
      "payload s3://payloads/dev/pkgs/ok.zip: command: bin/nope.sh is not in the package",
    );
  });
});
