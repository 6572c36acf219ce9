/** Job actions (docs/actions.md): which list runs, how each type renders and sends, best effort. */
import { describe, expect, it } from "vitest";
import { type ActionSenders, actionCounts, runActions } from "../../../lambda/jobs/actions";
import type { JobResult } from "../../../lambda/jobs/types";
import { validateRealm } from "../../../lambda/spec/validate";

const TOPIC = "arn:aws:sns:ap-southeast-2:123456789012:lava-notices";

function recorder(fail: string[] = []) {
  const sent: unknown[] = [];
  const senders: ActionSenders = {
    sns: async (topic, message, subject) => {
      if (fail.includes("sns"))
        throw Object.assign(new Error("no such topic"), { name: "NotFound" });
      sent.push({ sns: { topic, message, subject } });
    },
    sqs: async (queue, body, o) => void sent.push({ sqs: { queue, body, ...o } }),
    event: async (e) => void sent.push({ event: { ...e, detail: JSON.parse(e.detail) } }),
    log: (message) => void sent.push({ log: message }),
    dispatch: async (d, name) => void sent.push({ dispatch: d, name }),
  };
  return { sent, senders };
}

function realmWith(job: Record<string, unknown>, top: Record<string, unknown> = {}) {
  return validateRealm(
    {
      realm: "dev",
      ...top,
      jobs: [
        { job_id: "load", type: "chain", enabled: true, payload: ["next"], ...job },
        { job_id: "next", type: "chain", enabled: true, payload: ["load"] },
      ],
    },
    "realms/dev.yaml",
  );
}

const failed: JobResult = {
  job_id: "load",
  run_id: "r-1",
  status: "failed",
  error: { name: "BadDataError", message: "line 3", retryable: false },
  events: [],
};

describe("runActions", () => {
  it("renders and sends each type in order, with lava's result, job, realm and globals", async () => {
    const realm = realmWith({
      on_fail: [
        {
          action: "sns",
          topic: TOPIC,
          message: "{{job.job_id}}@{{realm.realm}} ({{job.run_id}}) failed: {{result.error}}",
          subject: `${"x".repeat(95)} {{ result.exit_status }} and more`,
        },
        { action: "sqs", queue: "ops", message: { job: "{{ job.job_id }}", n: 2 }, delay: "30s" },
        { action: "event" },
        { action: "log", message: "attempt for {{ globals.who }}" },
        { action: "dispatch", job_id: "{{ 'next' }}", parameters: { why: "{{ result.error }}" } },
      ],
    });
    const { sent, senders } = recorder();
    const job = realm.jobs[0] ?? realm.jobs[1];
    if (!job) throw new Error("no job");
    const run = {
      realm,
      job,
      runId: "r-1",
      globals: { who: "ops" },
      start: new Date(0),
      result: failed,
    };
    const lines = await runActions("on_fail", run, senders);
    expect(sent).toEqual([
      {
        sns: {
          topic: TOPIC,
          message: "load@dev (r-1) failed: BadDataError: line 3",
          subject: `${"x".repeat(95)} 1 an`,
        },
      },
      { sqs: { queue: "ops", body: '{"job":"load","n":2}', delaySeconds: 30 } },
      {
        event: {
          bus: "default",
          source: "lava.dev",
          detailType: "Lava Job Action",
          detail: {
            realm: "dev",
            worker: "lava-aurora",
            job_id: "load",
            run_id: "r-1",
            exit_status: 1,
          },
          resources: [],
        },
      },
      { log: "attempt for ops" },
      {
        dispatch: {
          job_id: "next",
          parameters: { why: "BadDataError: line 3" },
          globals: { who: "ops" },
        },
        name: expect.stringMatching(/^act-[0-9a-f]{32}$/),
      },
    ]);
    expect(lines).toHaveLength(5);
    // The same action of the same run dispatches under the same name.
    const again = recorder();
    await runActions("on_fail", run, again.senders);
    expect((again.sent[4] as { name: string }).name).toBe((sent[4] as { name: string }).name);
  });

  it("goes on after a failing action, reporting it", async () => {
    const realm = realmWith({
      on_success: [
        { action: "sns", topic: TOPIC, message: "done" },
        { action: "log", message: "still here" },
      ],
    });
    const { sent, senders } = recorder(["sns"]);
    const job = realm.jobs[0];
    if (!job) throw new Error("no job");
    const ok = { ...failed, status: "ok" as const, error: undefined };
    const lines = await runActions(
      "on_success",
      { realm, job, runId: "r", globals: {}, start: new Date(0), result: ok },
      senders,
    );
    expect(sent).toEqual([{ log: "still here" }]);
    expect(lines[0]).toBe("on_success[0] sns failed: NotFound: no such topic");
  });

  it("takes the job's list for an event, else the realm's, and counts them", () => {
    const realm = realmWith(
      { on_fail: [{ action: "log", message: "job's" }] },
      {
        on_fail: [{ action: "log", message: "realm's" }],
        on_retry: [
          { action: "log", message: "a" },
          { action: "log", message: "b" },
        ],
      },
    );
    const [load, next] = realm.jobs;
    if (!load || !next) throw new Error("no jobs");
    expect(actionCounts(realm, load)).toEqual({ on_success: 0, on_fail: 1, on_retry: 2 });
    expect(actionCounts(realm, next)).toEqual({ on_success: 0, on_fail: 1, on_retry: 2 });
  });
});

describe("every action type on every event", () => {
  it.each(["on_success", "on_retry", "on_fail"] as const)(
    "%s sends sns, sqs, event, log and dispatch",
    async (event) => {
      const list = [
        { action: "sns", topic: TOPIC, message: "{{ result.exit_status }}" },
        { action: "sqs", queue: "ops", message: "{{ result.exit_status }}" },
        { action: "event", detail: { s: "{{ result.exit_status }}" } },
        { action: "log", message: "{{ result.exit_status }}" },
        { action: "dispatch", job_id: "next" },
      ];
      const realm = realmWith({ [event]: list });
      const { sent, senders } = recorder();
      const job = realm.jobs[0];
      if (!job) throw new Error("no job");
      const result =
        event === "on_success" ? { ...failed, status: "ok" as const, error: undefined } : failed;
      await runActions(
        event,
        { realm, job, runId: "r", globals: {}, start: new Date(0), result },
        senders,
      );
      const status = event === "on_success" ? "0" : "1";
      expect(sent.map((x) => Object.keys(x as object)[0])).toEqual([
        "sns",
        "sqs",
        "event",
        "log",
        "dispatch",
      ]);
      expect(sent.slice(0, 2)).toEqual([
        { sns: { topic: TOPIC, message: status, subject: undefined } },
        { sqs: { queue: "ops", body: status } },
      ]);
      expect(sent[3]).toEqual({ log: status });
    },
  );
});

describe("action specs", () => {
  it("warn about lava's action types that do not run here, and refuse bad fields", () => {
    const realm = realmWith({ on_fail: [{ action: "email", to: "a@b.c", subject: "x" }] });
    expect(realm.warnings).toContain(
      "realms/dev.yaml: job load: on_fail[0]: action email is lava's, not run here: ignored",
    );
    expect(() =>
      realmWith({ on_success: [{ action: "sns", topic: "not-an-arn", message: "m" }] }),
    ).toThrow("on_success[0].topic: expected an SNS topic ARN");
  });
});
