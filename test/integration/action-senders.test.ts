/**
 * Actions and dispatch jobs sent with the real AWS SDK clients (docs/actions.md §3;
 * docs/pipelines.md §6) to the local stubs of SNS, SQS, EventBridge and Step
 * Functions, as they would be to AWS.
 */
import { describe, expect, it } from "vitest";
import { awsActionSenders } from "../../lambda/jobs/action-senders";
import { runJob } from "../../lambda/jobs/run-job";
import type { Dispatch, JobDeps } from "../../lambda/jobs/types";
import { validateRealm } from "../../lambda/spec/validate";
import { useAwsStub } from "../support/use-aws-stub";

const aws = useAwsStub();
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:lava-dev-jobs";

const realm = () =>
  validateRealm(
    {
      realm: "dev",
      jobs: [
        {
          job_id: "fan-out",
          type: "dispatch",
          enabled: true,
          payload: "load/a, load/b",
          globals: { day: "2026-12-01" },
          parameters: { delay: "1h", parameters: { key: "in/{{ globals.day }}.csv" } },
        },
        { job_id: "load/a", type: "chain", enabled: true, payload: ["load/b"] },
        { job_id: "load/b", type: "chain", enabled: true, payload: ["load/a"] },
      ],
    },
    "realms/dev.yaml",
  );

const deps = (send = awsActionSenders({ stateMachineArn: SM, log: () => undefined })): JobDeps =>
  ({ resolve: {} as JobDeps["resolve"], s3: () => ({}) as never, send }) as JobDeps;

describe("the AWS senders", () => {
  it("publish, send (by name and URL), put events and start executions", async () => {
    const topic = aws.sns.createTopic("notices");
    const url = aws.sqs.createQueue("ops");
    const logged: string[] = [];
    const send = awsActionSenders({ stateMachineArn: SM, log: (m) => logged.push(m) });
    await send.sns(topic, "body", "subject");
    await send.sqs("ops", "one", { delaySeconds: 5 });
    await send.sqs(url, "two", {});
    await send.event({
      bus: "default",
      source: "lava.dev",
      detailType: "Lava Job Action",
      detail: '{"a":1}',
      resources: [],
    });
    send.log("hello");
    await send.dispatch({ job_id: "load/a", parameters: {}, globals: {} }, "act-1");
    expect(aws.sns.topics.get(topic)).toMatchObject([{ message: "body", subject: "subject" }]);
    expect(aws.sqs.queues.get("ops")?.map((m) => [m.body, m.delaySeconds])).toEqual([
      ["one", 5],
      ["two", undefined],
    ]);
    expect(aws.events).toMatchObject([{ bus: "default", source: "lava.dev", detail: { a: 1 } }]);
    expect(logged).toEqual(["hello"]);
    expect([...aws.states.executions.values()].map((e) => [e.name, JSON.parse(e.input)])).toEqual([
      ["act-1", { job_id: "load/a", parameters: {}, globals: {} }],
    ]);
  });

  it("report a refused send as an error (unknown topic)", async () => {
    const send = awsActionSenders({ log: () => undefined });
    await expect(
      send.sns("arn:aws:sns:us-east-1:123456789012:nope", "m", undefined),
    ).rejects.toMatchObject({ name: "NotFoundException" });
  });
});

describe("a dispatch job", () => {
  it("starts each job as its own execution, with rendered parameters, globals.lava and the delay", async () => {
    const r = await runJob(realm(), { job_id: "fan-out" }, deps(), { runId: "run-1" });
    expect(r.status, JSON.stringify(r)).toBe("ok");
    const started = [...aws.states.executions.values()];
    expect(started.map((e) => e.name)).toEqual([
      expect.stringMatching(/^dsp-[0-9a-f]{32}$/),
      expect.stringMatching(/^dsp-[0-9a-f]{32}$/),
    ]);
    const inputs = started.map((e) => JSON.parse(e.input) as Dispatch & { delay: number });
    expect(inputs.map((i) => [i.job_id, i.parameters, i.delay])).toEqual([
      ["load/a", { key: "in/2026-12-01.csv" }, 3600],
      ["load/b", { key: "in/2026-12-01.csv" }, 3600],
    ]);
    expect(inputs[0]?.globals).toMatchObject({
      day: "2026-12-01",
      lava: { parent_job_id: "fan-out" },
    });
  });

  it("starts each job once when the same run is retried (names from the run id)", async () => {
    await runJob(realm(), { job_id: "fan-out" }, deps(), { runId: "run-2", start: new Date(0) });
    const again = await runJob(realm(), { job_id: "fan-out" }, deps(), {
      runId: "run-2",
      start: new Date(0),
    });
    expect(again.status).toBe("ok");
    expect(aws.states.executions.size).toBe(2);
  });

  it("refuses an unknown job before starting any", async () => {
    const doc = realm();
    const bad = {
      ...doc,
      jobs: doc.jobs.map((j) => (j.job_id === "fan-out" ? { ...j, payload: "load/a, nope" } : j)),
    };
    const r = await runJob(bad as never, { job_id: "fan-out" }, deps());
    expect(r.error?.message).toContain('payload: job "nope" is not defined in realm dev');
    expect(aws.states.executions.size).toBe(0);
  });

  it("from lava-aurora run, runs the dispatched jobs here", async () => {
    const ran: string[] = [];
    const send = awsActionSenders({
      log: () => undefined,
      runHere: async (d) => void ran.push(d.job_id),
    });
    const r = await runJob(realm(), { job_id: "fan-out" }, deps(send));
    expect(r.status).toBe("ok");
    expect(ran).toEqual(["load/a", "load/b"]);
  });
});
