/**
 * Nothing secret in the logs (docs/operations.md §5): loads of every kind go through
 * the real s3trigger, the SYNTHESIZED state machine (run locally) and the real
 * runner on real PostgreSQL and S3, with Powertools' Logger and Metrics writing as
 * on Lambda; every line they write is captured and searched for every secret the
 * fixtures use — SSM and Secrets Manager passwords (a wrong one too), the IAM
 * tokens signed, `s3_conn_id` keys and an assumed role's credentials, the stubs'
 * own keys — raw, JSON-escaped and URL-encoded. Every log line carries the run's keys
 * it knows; every metric record has realm and job_id, a job of the realm, as dimensions.
 */
import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installAwsS3Standin } from "../../bin/cli/local-world/aws-s3-standin";
import { S3RVER_CREDENTIALS } from "../../bin/cli/local-world/s3";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import {
  type ActionsRequest,
  type LoadRequest,
  makeRunnerHandler,
  type RunnerTelemetry,
  runActionsRequest,
  runLoadRequest,
} from "../../lambda/handlers/runner";
import { makeS3TriggerHandler } from "../../lambda/handlers/s3trigger";
import { awsActionSenders } from "../../lambda/jobs/action-senders";
import { METRICS_NAMESPACE } from "../../lambda/jobs/run-metrics";
import type { Dispatch, JobDeps } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { sfnStarter } from "../../lambda/triggers/dispatch";
import { buildApp } from "../../lib/app";
import { STUB_ACCESS_KEY_ID, STUB_ASSUMED_ACCESS_KEY_ID } from "../support/index";
import { BUCKET, DATABASE, LOADER_PASSWORD, loadJob, useLoadWorld } from "../support/load-world";
import { runExecutionsLocally } from "../support/local-sfn-runner";
import { definitionOf, type StateMachineDefinition } from "../support/local-state-machine";

const world = useLoadWorld();
const repo = new URL("../..", import.meta.url).pathname;
const STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-dev-jobs";
const CONTEXT = { getRemainingTimeInMillis: () => 60_000 };

/** Secrets of this file's own fixtures; the stubs' come from the stubs. */
const S3_KEY_SECRET = "s3-key-secret/9Qx'\"\\z";
const WRONG_PASSWORD = "wr0ng-pw:\\'\"q";
const COLUMNS = ["id INTEGER", "name TEXT"];

let definition: StateMachineDefinition;
let realm: Realm;

// ---- capturing what Powertools writes ----------------------------------------

/** Everything written to this process's stdout and stderr while capturing. */
const captured: string[] = [];
let restore: (() => void) | undefined;

/** Powertools' Logger and Metrics write through a Console on process.stdout/stderr: taken here. */
function captureOutput(): () => void {
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((s) => s.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
  }
  return () => {
    streams.forEach((s, i) => {
      s.write = writes[i] as typeof s.write;
    });
  };
}

/** The telemetry the Lambda handlers make, one per function, as on AWS. */
function powertools(service: string): Required<RunnerTelemetry> & { logger: Logger } {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
  metrics.clearDefaultDimensions();
  return { logger: new Logger({ serviceName: service }), metrics };
}

// ---- the world ------------------------------------------------------------------

/** IAM tokens the runner signed: each a password. */
const tokens: string[] = [];

function deps(): JobDeps {
  const base = world.deps();
  return {
    ...base,
    resolve: {
      ...base.resolve,
      signToken: async (...args: Parameters<JobDeps["resolve"]["signToken"]>) => {
        const token = await base.resolve.signToken(...args);
        tokens.push(token);
        return token;
      },
    },
  };
}

const job = (jobId: string, connection: string, extra: Record<string, unknown> = {}) =>
  loadJob(jobId, {
    db_conn_id: connection,
    table: jobId.replace(/\W/g, "_"),
    columns: COLUMNS,
    args: ["FORMAT CSV", "HEADER"],
    ...extra,
  });

const trigger = (name: string, jobId: string) => ({
  trigger_id: `t-${name}`,
  bucket: BUCKET,
  prefix: `scan/${name}`,
  job_id: jobId,
  enabled: true,
  parameters: { key: "{{ key }}" },
});

beforeAll(async () => {
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  definition = definitionOf(Template.fromStack(stack));
  await installAwsS3Standin(world.cluster, DATABASE, world.s3.endpoint);
  await world.cluster.createRole("iamloader");
  for (const bucket of ["payloads", "lava-temp"]) await world.s3.createBucket(bucket);
  world.aws.setParameter(
    "/lava/dev/s3keys",
    `${STUB_ACCESS_KEY_ID},${S3_KEY_SECRET}`,
    "SecureString",
  );
  world.s3.allowAccessKey(STUB_ACCESS_KEY_ID, S3_KEY_SECRET);
  world.putDbSecret("/lava/dev/pgsm", "loader", LOADER_PASSWORD);
  world.putDbSecret("/lava/dev/pgsm-wrong", "loader", WRONG_PASSWORD);
  const c = world.cluster;
  const db = { host: c.host, port: c.port, database: DATABASE, ssl: true, enabled: true };
  realm = world.realm(
    [
      job("scan/plain", "pg"),
      job("scan/bad", "pg"),
      job("scan/aurora-keys", "aurora", { s3_conn_id: "s3keys" }),
      job("scan/aurora-role", "aurora", { s3_conn_id: "s3role" }),
      job("scan/sm", "pgsm"),
      job("scan/sm-wrong", "pgsm-wrong"),
      job("scan/iam", "pgiam"),
      loadJob("scan/fan", {
        table: "scan_fan",
        columns: ["id INTEGER PRIMARY KEY", "name TEXT NOT NULL"],
        args: ["FORMAT CSV", "MANIFEST"],
        fan_out: { workers: 2, item_size: 1 },
      }),
      {
        job_id: "scan/exe",
        type: "exe",
        enabled: true,
        payload: "scan/conn.sh",
        parameters: { connections: { db: "pg", s3: "s3keys" } },
      },
      { job_id: "scan/exe-fail", type: "exe", enabled: true, payload: "scan/fail.sh" },
    ].map((j) =>
      j.job_id === "scan/plain"
        ? {
            ...j,
            on_success: [{ action: "log", message: "{{ job.job_id }} loaded in {{ job.run_id }}" }],
          }
        : j,
    ),
    {},
    {
      s3_payloads: "s3://payloads/dev",
      s3_temp: "s3://lava-temp/dev",
      connections: [
        {
          conn_id: "aurora",
          type: "postgres-aurora",
          user: "loader",
          password: "/lava/dev/loader",
          ...db,
        },
        {
          conn_id: "pgsm",
          type: "postgres",
          secret_id: "/lava/dev/pgsm",
          ssl: true,
          enabled: true,
        },
        {
          conn_id: "pgsm-wrong",
          type: "postgres",
          secret_id: "/lava/dev/pgsm-wrong",
          ssl: true,
          enabled: true,
        },
        { conn_id: "pgiam", type: "postgres-aurora", user: "iamloader", ...db },
        {
          conn_id: "s3keys",
          type: "aws",
          enabled: true,
          access_keys: "/lava/dev/s3keys",
          region: "us-east-1",
        },
        {
          conn_id: "s3role",
          type: "aws",
          enabled: true,
          role_arn: "arn:aws:iam::123456789012:role/partner",
          region: "us-east-1",
        },
      ],
      s3triggers: [
        trigger("plain", "scan/plain"),
        trigger("bad", "scan/bad"),
        trigger("aurora-keys", "scan/aurora-keys"),
        trigger("aurora-role", "scan/aurora-role"),
        trigger("sm", "scan/sm"),
        trigger("sm-wrong", "scan/sm-wrong"),
        trigger("iam", "scan/iam"),
        trigger("fan", "scan/fan"),
        // A trigger whose template fails: the s3trigger logs it and fails the event.
        {
          ...trigger("plain", "scan/plain"),
          trigger_id: "t-broken",
          parameters: { key: "{{ key.nope() }}" },
        },
      ],
    },
  );
  restore = captureOutput();
}, 120_000);

afterAll(() => restore?.());

let sequencer = 0;

/** Put an object; the EventBridge "Object Created" event S3 sends for it. */
async function put(key: string, body: string) {
  await world.s3.put(BUCKET, key, body);
  sequencer += 1;
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [`arn:aws:s3:::${BUCKET}`],
    detail: {
      version: "0",
      bucket: { name: BUCKET },
      object: {
        key,
        size: body.length,
        sequencer: `00${sequencer.toString(16).padStart(16, "0")}`,
      },
      reason: "PutObject",
    },
  };
}

// ---- the runs -------------------------------------------------------------------

describe("the runner's and the s3trigger's logs", () => {
  it("hold none of the fixtures' secrets after loads of every kind, and every line has the run's keys", {
    timeout: 120_000,
  }, async () => {
    // Prepare: the functions' telemetry, and executions run locally as Step Functions would.
    const runner = powertools("lava-dev-runner");
    const trigger = powertools("lava-dev-s3trigger");
    const senders = awsActionSenders({ log: () => undefined });
    const runJob = makeRunnerHandler(realm, deps(), runner);
    const load = (i: unknown) => runLoadRequest(realm, i as LoadRequest, deps(), CONTEXT, runner);
    const executions = runExecutionsLocally(world.aws.states, definition, {
      handlers: {
        Resolve: (i) => makeResolveHandler(realm)(i as JobsInput),
        "Run job": (i) => runJob(i as Dispatch, CONTEXT),
        "Plan load": load,
        "Load item": load,
        "Publish load": load,
        "on_success actions": (i) => runActionsRequest(realm, i as ActionsRequest, senders, runner),
        Notify: () => ({ MessageId: "m" }),
      },
    });
    const s3trigger = makeS3TriggerHandler(realm, sfnStarter(STATE_MACHINE_ARN), trigger.logger);
    const csv = (...ids: number[]) => `id,name\n${ids.map((i) => `${i},n${i}`).join("\n")}\n`;
    const parts = [];
    for (const i of [1, 2, 3]) {
      await world.s3.put(BUCKET, `parts/p${i}.csv`, `${i},n${i}\n`);
      parts.push({ url: `s3://${BUCKET}/parts/p${i}.csv` });
    }
    await world.s3.put(
      "payloads",
      "dev/scan/conn.sh",
      '#!/bin/sh\n"$LAVA_CONN_DB" -tAc "SELECT current_user"\nenv\n',
    );
    await world.s3.put("payloads", "dev/scan/fail.sh", "#!/bin/sh\necho oops >&2\nexit 3\n");

    // Act: S3 events through the s3trigger, each a state machine execution; exe jobs directly.
    const events = [
      await put("scan/plain/1.csv", csv(1, 2)),
      await put("scan/bad/1.csv", "id,name\nnot-a-number,x\n"),
      await put("scan/aurora-keys/1.csv", csv(1)),
      await put("scan/aurora-role/1.csv", csv(1)),
      await put("scan/sm/1.csv", csv(1)),
      await put("scan/sm-wrong/1.csv", csv(1)),
      await put("scan/iam/1.csv", csv(1)),
      await put("scan/fan/day.manifest", JSON.stringify({ entries: parts })),
    ];
    for (const event of events) await s3trigger(event).catch((e: unknown) => e);
    await s3trigger({ "detail-type": "Object Created", source: "aws.s3" }).catch((e: unknown) => e);
    await executions.settled(60_000);
    const exeDispatch = (jobId: string) => ({
      job_id: jobId,
      execution: `${STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")}:direct-${jobId.replace("/", "-")}`,
    });
    const exe = await runJob(exeDispatch("scan/exe"), CONTEXT);
    const exeFail = await runJob(exeDispatch("scan/exe-fail"), CONTEXT);
    restore?.();
    restore = undefined;

    // Assess: the runs went as meant (the scan is not of an empty log)...
    const results = [...executions.runs.values()].map((r) => [
      (r.taskInputs.Resolve?.[0] as { input?: JobsInput } | undefined)?.input?.job_id,
      r.status,
    ]);
    expect(Object.fromEntries(results)).toEqual({
      "scan/plain": "SUCCEEDED",
      "scan/bad": "FAILED",
      "scan/aurora-keys": "SUCCEEDED",
      "scan/aurora-role": "SUCCEEDED",
      "scan/sm": "SUCCEEDED",
      "scan/sm-wrong": "FAILED",
      "scan/iam": "FAILED",
      "scan/fan": "SUCCEEDED",
    });
    expect([exe.status, exeFail.status]).toEqual(["ok", "failed"]);
    expect(tokens.length).toBeGreaterThan(0);
    const text = captured.join("");
    const lines = text.split("\n").filter((l) => l.trim());
    const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const messages = new Set(logs.map((l) => l.message));
    for (const m of [
      "dispatched",
      "trigger not dispatched",
      "record not dispatched",
      "job run finished",
      "job run failed",
      "fan-out load planned",
      "fan-out item loaded",
      "scan/plain loaded in",
    ])
      expect(
        [...messages].some((x) => String(x).startsWith(m)),
        m,
      ).toBe(true);

    // ...no secret in any form...
    const aws = world.aws;
    const secrets: Record<string, string> = {
      "the loader's password (SSM, Secrets Manager)": LOADER_PASSWORD,
      "a wrong Secrets Manager password": WRONG_PASSWORD,
      "the s3_conn_id secret key": S3_KEY_SECRET,
      "the assumed role's secret key": aws.sts.credentials.secretAccessKey,
      "the assumed role's session token": aws.sts.credentials.sessionToken,
      "the runner's AWS secret key": aws.env().AWS_SECRET_ACCESS_KEY as string,
      "the S3 server's secret key": S3RVER_CREDENTIALS.secretAccessKey,
      "an access key id": STUB_ACCESS_KEY_ID,
      "the assumed access key id": STUB_ASSUMED_ACCESS_KEY_ID,
      ...Object.fromEntries(tokens.map((t, i) => [`IAM token ${i + 1}`, t])),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      expect(secret.length, what).toBeGreaterThan(5);
      const escaped = JSON.stringify(secret).slice(1, -1);
      for (const form of [
        secret,
        escaped,
        JSON.stringify(escaped).slice(1, -1),
        encodeURIComponent(secret),
      ])
        expect(text.includes(form), `${what} in the logs`).toBe(false);
    }
    expect(text).not.toContain("X-Amz-Signature");

    // ...and every log line has the five keys; the metrics only realm and job_id.
    const metricRecords = logs.filter((l) => "_aws" in l);
    expect(metricRecords.length).toBeGreaterThan(5);
    for (const m of metricRecords) {
      const { CloudWatchMetrics } = m._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] };
      expect(CloudWatchMetrics.map((c) => c.Dimensions)).toEqual([[["realm", "job_id"]]]);
      expect(realm.jobs.map((j) => j.job_id)).toContain(m.job_id);
    }
    // A fan-out load's metrics are its whole run's, once, at its publish.
    const fan = metricRecords.filter((m) => m.job_id === "scan/fan");
    expect(fan).toEqual([
      expect.objectContaining({
        JobFailed: 0,
        RowsLoaded: 3,
        BytesLoaded: ["1,n1\n", "2,n2\n", "3,n3\n"].join("").length,
        Lag: expect.any(Number),
        RunDelay: expect.any(Number),
      }),
    ]);
    expect(fan[0]?.Lag).toBeGreaterThanOrEqual(Number(fan[0]?.RunTime));
    const has = (line: Record<string, unknown>, keys: string[]) =>
      expect(Object.keys(line), JSON.stringify(line)).toEqual(expect.arrayContaining(keys));
    for (const line of logs.filter((l) => !("_aws" in l))) {
      expect(line.realm).toBe("dev");
      if (line.service === "lava-dev-runner") {
        has(line, ["job_id", "run_id", "execution"]);
        expect(line.job_id).toMatch(/^scan\//);
        expect(line.execution).toMatch(/:execution:lava-dev-jobs:/);
        if (!String(line.job_id).startsWith("scan/exe")) has(line, ["object"]);
      }
      if (line.message === "dispatched") {
        has(line, ["job_id", "execution", "object"]);
        expect(line.execution).toMatch(/:execution:lava-dev-jobs:scan-/);
        expect(line.object).toMatch(/^s3:\/\/landing\/scan\//);
      }
      if (line.message === "trigger not dispatched") has(line, ["object"]);
    }
  });
});
