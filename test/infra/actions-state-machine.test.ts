/**
 * Actions in the SYNTHESIZED state machine, executed locally (docs/actions.md §4):
 * on_success after an ok run, on_retry before each further attempt, on_fail
 * before the notice; each answered by the runner's real action handler with a
 * recording sender; a job without actions never calls it.
 */
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { type JobsInput, makeResolveHandler } from "../../lambda/handlers/resolve";
import { type ActionsRequest, runActionsRequest } from "../../lambda/handlers/runner";
import type { ActionSenders } from "../../lambda/jobs/actions";
import type { Dispatch, JobResult } from "../../lambda/jobs/types";
import type { Realm } from "../../lambda/spec/realm";
import { validateRealm } from "../../lambda/spec/validate";
import { buildApp } from "../../lib/app";
import {
  definitionOf,
  runLocally,
  type StateMachineDefinition,
} from "../support/local-state-machine";

const repo = new URL("../..", import.meta.url).pathname;
const TOPIC = "arn:aws:sns:ap-southeast-2:123456789012:lava-notices";
let definition: StateMachineDefinition;
let realm: Realm;

beforeAll(async () => {
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  definition = definitionOf(Template.fromStack(stack));
  const job = (jobId: string, extra: Record<string, unknown> = {}) => ({
    job_id: jobId,
    type: "sqli",
    enabled: true,
    payload: "SELECT 1",
    parameters: { conn_id: "pg" },
    iteration_limit: 2,
    ...extra,
  });
  realm = validateRealm(
    {
      realm: "example",
      s3_temp: "s3://example-lava-temp/example",
      connections: [
        {
          conn_id: "pg",
          type: "postgres",
          enabled: true,
          host: "h",
          user: "u",
          database: "d",
          password: "/lava/example/p",
        },
      ],
      on_fail: [
        { action: "sns", topic: TOPIC, message: "{{ job.job_id }} failed: {{ result.error }}" },
      ],
      jobs: [
        job("acts", {
          on_success: [{ action: "log", message: "{{ job.job_id }} ok on {{ result.run_id }}" }],
          on_retry: [{ action: "log", message: "retrying {{ job.job_id }}" }],
        }),
        job("quiet", { on_fail: [] }),
      ],
    },
    "realms/example.yaml",
  );
}, 120_000);

/** Run an execution; `results` answers the runner's attempts in turn. */
async function execute(jobId: string, results: JobResult["status"][]) {
  const sent: string[] = [];
  const senders: ActionSenders = {
    sns: async (topic, message) => void sent.push(`sns ${topic.split(":").pop()}: ${message}`),
    sqs: async () => undefined,
    event: async () => undefined,
    log: (m) => void sent.push(`log: ${m}`),
    dispatch: async () => undefined,
  };
  let attempt = 0;
  const action = (i: unknown) => runActionsRequest(realm, i as ActionsRequest, senders);
  const r = await runLocally(definition, { job_id: jobId } as never, {
    handlers: {
      Resolve: (i) => makeResolveHandler(realm)(i as JobsInput),
      "Run job": (i) => {
        const status = results[attempt++] ?? "failed";
        const d = i as Dispatch;
        return {
          job_id: d.job_id,
          run_id: `run-${attempt}`,
          status,
          events: [],
          ...(status === "failed"
            ? { error: { name: "PayloadError", message: `attempt ${attempt}`, retryable: false } }
            : {}),
        };
      },
      "on_success actions": action,
      "on_retry actions": action,
      "on_fail actions": action,
      Notify: () => ({ MessageId: "m" }),
    },
  });
  return { r, sent };
}

describe("actions in the state machine", () => {
  it("runs on_retry before the second attempt, then on_success after it", async () => {
    const { r, sent } = await execute("acts", ["failed", "ok"]);
    expect(r.status).toBe("SUCCEEDED");
    expect(sent).toEqual(["log: retrying acts", "log: acts ok on run-2"]);
  });

  it("runs on_retry, then the realm's on_fail (the job has none) before the notice", async () => {
    const { r, sent } = await execute("acts", ["failed", "failed"]);
    expect(r.status).toBe("FAILED");
    expect(sent).toEqual([
      "log: retrying acts",
      "sns lava-notices: acts failed: PayloadError: attempt 2",
    ]);
    const entered = r.entered;
    expect(entered.indexOf("on_fail actions")).toBeLessThan(entered.indexOf("Notify"));
  });

  it("never calls the action handler for a job whose lists are empty", async () => {
    const { r, sent } = await execute("quiet", ["failed", "failed"]);
    expect(r.status).toBe("FAILED");
    expect(sent).toEqual([]);
    expect(r.calls["on_fail actions"]).toBe(0);
    expect(r.calls["on_retry actions"]).toBe(0);
  });
});
