/**
 * Jobs' `schedule`s become EventBridge Scheduler schedules (docs/schedules.md §5):
 * asserted on the example realm with scheduled jobs added, synthesized as `cdk synth`
 * does (cdk-nag included), and on the construct alone for what depends on the clock.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { JobSpec } from "../../lambda/spec/job";
import { buildApp } from "../../lib/app";
import { JobSchedules } from "../../lib/constructs/job-schedules";

const repo = new URL("../..", import.meta.url).pathname;
let cwd: string;
let app: App;
let template: Template;

const vacuum = (jobId: string, extra: Record<string, unknown>) => ({
  job_id: jobId,
  type: "exe",
  enabled: true,
  payload: "ops/vacuum.sh",
  ...extra,
});

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "lava-sched-"));
  await mkdir(join(cwd, "realms"));
  const text = await readFile(join(repo, "realms/example.yaml"), "utf8");
  const doc = parse(text.replaceAll("/lava/example/", "/lava/schedtest/"));
  doc.realm = "schedtest";
  doc.timezone = "Australia/Sydney";
  doc.jobs.push(
    vacuum("sched/weekdays", {
      schedule: ["0 12 * * 1-5", "0 14 * * 0,6"],
      max_run_delay: "10m",
    }),
    vacuum("sched/either", { schedule: "0 0 1,15 * MON" }),
    vacuum("sched/windows", {
      schedule: [
        { crontab: "0 12 * * *", to: "2019-06-30T00:00:00Z" },
        { crontab: "0 14 * * *", from: "2019-06-30T00:00:00Z" },
        // Outside February 2099 (from after to), in Sydney time: two schedules.
        { crontab: "30 6 * * *", from: "2099-03-01T00:00:00", to: "2099-02-01T00:00:00" },
      ],
    }),
    vacuum("sched/off", { enabled: false, schedule: "* * * * *" }),
  );
  await writeFile(join(cwd, "realms", "schedtest.yaml"), stringify(doc));
  const built = await buildApp(new App({ context: { realm: "schedtest" } }), cwd);
  app = built.app;
  template = Template.fromStack(built.stack);
}, 180_000);

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

type Props = Record<string, unknown> & {
  Description: string;
  ScheduleExpression: string;
  Target: Record<string, unknown> & { Input: string };
};
const schedules = () =>
  Object.values(template.findResources("AWS::Scheduler::Schedule")).map(
    (r) => r.Properties as Props,
  );
const of = (jobId: string) => schedules().filter((s) => s.Description.includes(` ${jobId}: `));
const logicalId = (type: string, props: Record<string, unknown>) => {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
  return ids[0] as string;
};

describe("scheduled jobs of realm schedtest", () => {
  it("puts every schedule in group lava-schedtest, in the realm's time zone, without a flexible window", () => {
    template.hasResourceProperties("AWS::Scheduler::ScheduleGroup", { Name: "lava-schedtest" });
    const all = schedules();
    // sales/nightly 1, weekdays 2, either 2, windows 0 + 1 + 2.
    expect(all).toHaveLength(8);
    for (const s of all) {
      expect(s.GroupName).toBe("lava-schedtest");
      expect(s.ScheduleExpressionTimezone).toBe("Australia/Sydney");
      expect(s.FlexibleTimeWindow).toEqual({ Mode: "OFF" });
      expect(s.State).toBe("ENABLED");
      expect(String(s.Name)).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    }
  });

  it("creates each schedule after its group and its role's policy", () => {
    const group = logicalId("AWS::Scheduler::ScheduleGroup", {});
    const policy = Object.keys(template.findResources("AWS::IAM::Policy")).find((id) =>
      id.startsWith("SchedulesRoleDefaultPolicy"),
    );
    for (const r of Object.values(template.findResources("AWS::Scheduler::Schedule")))
      expect(r.DependsOn).toEqual(expect.arrayContaining([group, policy]));
    template.hasResource("AWS::Scheduler::ScheduleGroup", { DeletionPolicy: "Delete" });
  });

  it("converts lava's crontabs to Scheduler's six fields, one schedule per day field when both are set", () => {
    expect(of("sales/nightly").map((s) => s.ScheduleExpression)).toEqual(["cron(30 2 * * ? *)"]);
    expect(of("sched/weekdays").map((s) => s.ScheduleExpression)).toEqual([
      "cron(0 12 ? * MON-FRI *)",
      "cron(0 14 ? * SUN,SAT *)",
    ]);
    const either = of("sched/either");
    expect(either.map((s) => s.ScheduleExpression)).toEqual([
      "cron(0 0 1,15 * ? *)",
      "cron(0 0 ? * MON *)",
    ]);
    expect(either[1]?.Description).toContain("day-of-week half");
  });

  it("starts the jobs state machine with the job id and the scheduled time", () => {
    const sm = logicalId("AWS::StepFunctions::StateMachine", {
      StateMachineName: "lava-schedtest-jobs",
    });
    const [weekdays] = of("sched/weekdays");
    expect(weekdays?.Target.Arn).toEqual({ Ref: sm });
    expect(JSON.parse(weekdays?.Target.Input ?? "")).toEqual({
      job_id: "sched/weekdays",
      scheduled_at: "<aws.scheduler.scheduled-time>",
    });
  });

  it("retries for up to max_run_delay (else a day), then dead-letters to an encrypted queue", () => {
    const queue = logicalId("AWS::SQS::Queue", { QueueName: "lava-schedtest-schedules-dlq" });
    const key = logicalId("AWS::KMS::Key", {});
    template.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: "lava-schedtest-schedules-dlq",
      KmsMasterKeyId: { "Fn::GetAtt": [key, "Arn"] },
    });
    for (const s of schedules()) {
      expect(s.Target.DeadLetterConfig).toEqual({ Arn: { "Fn::GetAtt": [queue, "Arn"] } });
      const age = s.Description.includes("sched/weekdays")
        ? 600
        : s.Description.includes("sales/nightly")
          ? 7200
          : 86_400;
      expect(s.Target.RetryPolicy).toEqual({
        MaximumRetryAttempts: 185,
        MaximumEventAgeInSeconds: age,
      });
    }
    for (const name of ["schedules-dead-letters", "schedules-dead-letters-lost"])
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        AlarmName: `lava-schedtest-${name}`,
      });
  });

  it("runs as a role only Scheduler may assume, for this account and group, allowed to start only that state machine", () => {
    const role = logicalId("AWS::IAM::Role", {
      Description: Match.stringLikeRegexp("schedules start the jobs state machine"),
    });
    for (const s of schedules()) expect(s.Target.RoleArn).toEqual({ "Fn::GetAtt": [role, "Arn"] });
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: "Allow",
            Action: "sts:AssumeRole",
            Principal: { Service: "scheduler.amazonaws.com" },
            Condition: {
              StringEquals: {
                "aws:SourceAccount": "123456789012",
                "aws:SourceArn": {
                  "Fn::Join": [
                    "",
                    [
                      "arn:",
                      { Ref: "AWS::Partition" },
                      ":scheduler:ap-southeast-2:123456789012:schedule-group/lava-schedtest",
                    ],
                  ],
                },
              },
            },
          },
        ],
      },
    });
    const policies = Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(role),
    );
    const statements = policies.flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[],
    );
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual([
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "sqs:SendMessage",
      "states:StartExecution",
    ]);
    const sm = logicalId("AWS::StepFunctions::StateMachine", {});
    expect(statements).toContainEqual({
      Effect: "Allow",
      Action: "states:StartExecution",
      Resource: { Ref: sm },
    });
    expect(JSON.stringify(statements)).toContain("kms:ViaService");
  });

  it("maps windows to start and end dates a second around their minutes, leaving out ended ones", () => {
    const windows = of("sched/windows");
    expect(windows.map((s) => [s.ScheduleExpression, s.StartDate, s.EndDate])).toEqual([
      ["cron(0 14 * * ? *)", undefined, undefined],
      // 2099-02-01T00:00 in Sydney (AEDT) is 2099-01-31T13:00Z.
      ["cron(30 6 * * ? *)", undefined, "2099-01-31T13:00:01.000Z"],
      ["cron(30 6 * * ? *)", "2099-02-28T12:59:59.000Z", undefined],
    ]);
  });

  it("gives a disabled job no schedule", () => {
    expect(of("sched/off")).toEqual([]);
  });

  it("synthesizes with no cdk-nag finding", () => {
    expect(() => app.synth()).not.toThrow();
  });
});

describe("JobSchedules alone", () => {
  const synth = (jobs: unknown[], now?: Date) => {
    const stack = new Stack(new App(), "S", {
      env: { account: "123456789012", region: "us-east-1" },
    });
    const stateMachine = new sfn.StateMachine(stack, "Sm", {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, "P")),
    });
    new JobSchedules(stack, "Schedules", {
      realmName: "r",
      stateMachine,
      jobs: jobs as JobSpec[],
      key: new kms.Key(stack, "Key"),
      ...(now ? { now } : {}),
    });
    return Template.fromStack(stack);
  };

  it("makes nothing for a realm without scheduled jobs", () => {
    const t = synth([
      { job_id: "a", type: "exe", enabled: false, schedule: "* * * * *" },
      { job_id: "b", type: "exe", enabled: true },
      { job_id: "c", type: "exe", enabled: true, schedule: "--" },
    ]);
    for (const type of ["AWS::Scheduler::ScheduleGroup", "AWS::SQS::Queue", "AWS::IAM::Role"])
      expect(Object.keys(t.findResources(type)), type).toHaveLength(type.includes("Role") ? 1 : 0);
  });

  it("schedules a job whose enabled is a template (Resolve renders it on each run), in UTC by default", () => {
    const t = synth([{ job_id: "t", type: "exe", enabled: "{{ true }}", schedule: "@daily" }]);
    t.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "cron(0 0 * * ? *)",
      ScheduleExpressionTimezone: "UTC",
    });
  });

  it("keeps a start date still to come and drops one past, judged at synth time", () => {
    const job = {
      job_id: "w",
      type: "exe",
      enabled: true,
      schedule: { crontab: "0 1 * * *", from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z" },
    };
    const before = synth([job], new Date("2029-06-01T00:00:00Z"));
    before.hasResourceProperties("AWS::Scheduler::Schedule", {
      StartDate: "2029-12-31T23:59:59.000Z",
      EndDate: "2031-01-01T00:00:01.000Z",
    });
    const during = synth([job], new Date("2030-06-01T00:00:00Z"));
    const [s] = Object.values(during.findResources("AWS::Scheduler::Schedule"));
    expect(s?.Properties.StartDate).toBeUndefined();
    expect(s?.Properties.EndDate).toBe("2031-01-01T00:00:01.000Z");
    const after = synth([job], new Date("2031-06-01T00:00:00Z"));
    expect(after.findResources("AWS::Scheduler::Schedule")).toEqual({});
  });
});
