/**
 * Dashboard lava-example and the per-job alarms (docs/operations.md §2), asserted on
 * the synthesized example stack (cdk-nag active, as `cdk synth` runs it), and on the
 * construct alone for a realm with many jobs and none with max_lag.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { beforeAll, describe, expect, it } from "vitest";
import { RUN_METRIC_UNITS } from "../../lambda/jobs/run-metrics";
import type { JobSpec } from "../../lambda/spec/job";
import { buildApp } from "../../lib/app";
import { RealmNotices } from "../../lib/constructs/notices";
import { MAX_METRICS_PER_GRAPH, OpsDashboard } from "../../lib/constructs/ops-dashboard";
import type { RealmStack } from "../../lib/realm-stack";

const repo = new URL("../..", import.meta.url).pathname;
let app: App;
let stack: RealmStack;
let template: Template;

beforeAll(async () => {
  ({ app, stack } = await buildApp(new App({ context: { realm: "example" } }), repo));
  template = Template.fromStack(stack);
}, 120_000);

type Widget = {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: unknown[][];
    alarms?: string[];
    annotations?: { horizontal?: { value: number; label: string }[] };
  };
};

/** The dashboard's body, its tokens (Refs, ARNs) rendered as `<Ref>` / `<Arn>`. */
function widgetsOf(t: Template): Widget[] {
  const [dashboard, ...others] = Object.values(t.findResources("AWS::CloudWatch::Dashboard"));
  expect(others).toEqual([]);
  const body = dashboard?.Properties.DashboardBody as { "Fn::Join": [string, unknown[]] };
  const text = body["Fn::Join"][1]
    .map((part) => (typeof part === "string" ? part : "<token>"))
    .join("");
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

/** `[metric name, job id, stat]` of every run metric of a widget. */
function runMetricsOf(widget: Widget | undefined): [string, string, string][] {
  return (widget?.properties.metrics ?? []).flatMap((m) => {
    if (m[0] !== "lava-aurora") return [];
    const dims = Object.fromEntries(
      [2, 4].map((i) => [m[i] as string, m[i + 1] as string]),
    ) as Record<string, string>;
    expect(dims.realm).toBe("example");
    // CloudWatch's default statistic, Average, is left out of the body.
    const options = m.at(-1) as { stat?: string };
    return [[m[1] as string, dims.job_id as string, options.stat ?? "Average"]];
  });
}

const RUN_JOBS = [
  "sales/load-orders",
  "sales/load-events",
  "partner/load-drop",
  "demo/load-members",
  "ops/vacuum",
  "sales/merge-orders",
  "reports/daily",
];
const LOAD_JOBS = RUN_JOBS.slice(0, 4);

describe("dashboard lava-example", () => {
  it("graphs runs and failures of every job the runner runs, one metric each, never the chain (its children are the runs)", () => {
    const widgets = widgetsOf(template);
    template.hasResourceProperties("AWS::CloudWatch::Dashboard", { DashboardName: "lava-example" });
    const byTitle = (title: string) => widgets.find((w) => w.properties.title === title);
    expect(runMetricsOf(byTitle("Runs per job"))).toEqual(
      RUN_JOBS.map((j) => ["JobFailed", j, "SampleCount"]),
    );
    expect(runMetricsOf(byTitle("Failed runs per job"))).toEqual(
      RUN_JOBS.map((j) => ["JobFailed", j, "Sum"]),
    );
    expect(JSON.stringify(widgets)).not.toContain("sales/nightly");
  });

  it("graphs lag (with each max_lag as a line), throughput, rows, bytes, run time, run delay, skips and rejected rows", () => {
    const widgets = widgetsOf(template);
    const byTitle = (title: string) => widgets.find((w) => w.properties.title === title);
    const lag = byTitle("Lag: S3 event to commit (ms, max)");
    expect(runMetricsOf(lag)).toEqual(RUN_JOBS.map((j) => ["Lag", j, "Maximum"]));
    expect(lag?.properties.annotations?.horizontal).toMatchObject([
      { value: 1_800_000, label: "sales/load-orders max_lag 30m" },
    ]);
    expect(runMetricsOf(byTitle("Load throughput (MB/s)"))).toEqual(
      LOAD_JOBS.map((j) => ["LoadThroughput", j, "Average"]),
    );
    expect(runMetricsOf(byTitle("Rows loaded"))).toEqual(
      LOAD_JOBS.map((j) => ["RowsLoaded", j, "Sum"]),
    );
    expect(runMetricsOf(byTitle("Bytes loaded"))).toEqual(
      LOAD_JOBS.map((j) => ["BytesLoaded", j, "Sum"]),
    );
    expect(runMetricsOf(byTitle("Run time (ms, max)"))).toEqual(
      RUN_JOBS.map((j) => ["RunTime", j, "Maximum"]),
    );
    expect(runMetricsOf(byTitle("Run delay (ms, max)"))).toEqual(
      RUN_JOBS.map((j) => ["RunDelay", j, "Maximum"]),
    );
    expect(runMetricsOf(byTitle("Skipped and rejected"))).toEqual(
      ["DuplicatesSkipped", "StaleSkipped", "RowsRejected"].flatMap((n) =>
        LOAD_JOBS.map((j) => [n, j, "Sum"]),
      ),
    );
    // Every metric a run emits is on the dashboard.
    const graphed = new Set(widgets.flatMap((w) => runMetricsOf(w).map(([n]) => n)));
    expect([...graphed].sort()).toEqual(Object.keys(RUN_METRIC_UNITS).sort());
  });

  it("graphs both dead-letter queues, the state machine's executions, and every alarm of the stack", () => {
    const widgets = widgetsOf(template);
    const byTitle = (title: string) => widgets.find((w) => w.properties.title === title);
    const queues = byTitle("Dead letters waiting")?.properties.metrics ?? [];
    expect(queues.map((m) => [m[0], m[1], m[3]])).toEqual([
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "<token>"],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "<token>"],
    ]);
    const body = JSON.stringify(
      stack.resolve(template.toJSON().Resources[dashboardId()].Properties.DashboardBody),
    );
    for (const queue of ["lava-example-s3trigger-dlq", "lava-example-schedules-dlq"]) {
      const id = Object.keys(
        template.findResources("AWS::SQS::Queue", {
          Properties: Match.objectLike({ QueueName: queue }),
        }),
      )[0];
      expect(body, queue).toContain(`"Fn::GetAtt":["${id}","QueueName"]`);
    }
    const sm = byTitle("State machine executions")?.properties.metrics ?? [];
    expect(sm.map((m) => [m[0], m[1]])).toEqual(
      [
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
      ].map((n) => ["AWS/States", n]),
    );
    const alarms = widgets.find((w) => w.type === "alarm")?.properties.alarms ?? [];
    expect(alarms).toHaveLength(
      Object.keys(template.findResources("AWS::CloudWatch::Alarm")).length,
    );
  });

  it("lays the widgets out in rows of the 24-unit grid, none overlapping", () => {
    const widgets = widgetsOf(template);
    for (const w of widgets) expect(w.x + w.width, w.properties.title).toBeLessThanOrEqual(24);
    for (const [i, a] of widgets.entries())
      for (const b of widgets.slice(i + 1)) {
        const apart =
          a.x + a.width <= b.x ||
          b.x + b.width <= a.x ||
          a.y + a.height <= b.y ||
          b.y + b.height <= a.y;
        expect(apart, `${a.properties.title} / ${b.properties.title}`).toBe(true);
      }
  });

  it("is drawn in the README's Operations section, every widget by its title", () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Operations"), readme.indexOf("## Performance"));
    expect(section.length).toBeGreaterThan(100);
    for (const w of widgetsOf(template))
      if (w.properties.title) expect(section, w.properties.title).toContain(w.properties.title);
  });
});

function dashboardId(): string {
  return Object.keys(template.findResources("AWS::CloudWatch::Dashboard"))[0] as string;
}

describe("alarms of lava-example", () => {
  const topic = () =>
    Object.keys(
      template.findResources("AWS::SNS::Topic", {
        Properties: Match.objectLike({ TopicName: "lava-example-notices" }),
      }),
    )[0];

  it("alarms on failed runs of every job the runner runs, notifying the notices topic", () => {
    for (const job of RUN_JOBS)
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        AlarmName: `lava-example-job-${job}-failed`,
        Namespace: "lava-aurora",
        MetricName: "JobFailed",
        Dimensions: Match.arrayEquals([
          { Name: "job_id", Value: job },
          { Name: "realm", Value: "example" },
        ]),
        Statistic: "Sum",
        Period: 300,
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "notBreaching",
        AlarmActions: [{ Ref: topic() }],
      });
  });

  it("alarms on lag above max_lag for sales/load-orders (max_lag 30m), and for no job without max_lag", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmName: "lava-example-job-sales/load-orders-lag",
      Namespace: "lava-aurora",
      MetricName: "Lag",
      Dimensions: Match.arrayEquals([
        { Name: "job_id", Value: "sales/load-orders" },
        { Name: "realm", Value: "example" },
      ]),
      Statistic: "Maximum",
      Threshold: 1_800_000,
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: [{ Ref: topic() }],
    });
    const lagAlarms = Object.values(
      template.findResources("AWS::CloudWatch::Alarm", {
        Properties: Match.objectLike({ MetricName: "Lag" }),
      }),
    ).map((a) => a.Properties.AlarmName);
    expect(lagAlarms).toEqual(["lava-example-job-sales/load-orders-lag"]);
  });

  it("synthesizes with cdk-nag AwsSolutions checks active and finds nothing", () => {
    expect(() => app.synth()).not.toThrow();
  });
});

describe("OpsDashboard alone", () => {
  function build(jobs: JobSpec[]) {
    const s = new Stack(new App(), "Ops", {
      env: { account: "123456789012", region: "us-east-1" },
    });
    const notices = new RealmNotices(s, "Notices", {
      realmName: "big",
      key: new kms.Key(s, "Key"),
    });
    const ops = new OpsDashboard(s, "Ops", {
      realmName: "big",
      jobs,
      notices,
      stateMachine: sfn.StateMachine.fromStateMachineName(s, "Jobs", "lava-big-jobs"),
    });
    return { ops, template: Template.fromStack(s) };
  }
  const load = (i: number, extra: Partial<JobSpec> = {}) =>
    ({
      job_id: `load/${String(i).padStart(3, "0")}`,
      type: "db_from_s3",
      enabled: true,
      ...extra,
    }) as JobSpec;

  it("splits a graph of more jobs than one graph holds, keeping every job", () => {
    const jobs = Array.from({ length: MAX_METRICS_PER_GRAPH + 20 }, (_, i) => load(i));
    const widgets = widgetsOf(build(jobs).template);
    const runs = widgets.filter((w) => w.properties.title?.startsWith("Runs per job"));
    expect(runs.map((w) => w.properties.title)).toEqual([
      "Runs per job (1/2)",
      "Runs per job (2/2)",
    ]);
    expect(runs.map((w) => w.properties.metrics?.length)).toEqual([MAX_METRICS_PER_GRAPH, 20]);
    for (const w of widgets) expect(w.properties.metrics?.length ?? 0).toBeLessThanOrEqual(100);
    const alarms = widgets.filter((w) => w.type === "alarm");
    expect(alarms.flatMap((w) => w.properties.alarms)).toHaveLength(jobs.length);
  });

  it("makes no lag alarm when no job sets max_lag, and refuses a max_lag that is no duration", () => {
    const { ops, template: t } = build([load(1), load(2)]);
    expect(ops.lagAlarms).toEqual([]);
    expect(ops.failureAlarms).toHaveLength(2);
    t.resourceCountIs("AWS::CloudWatch::Alarm", 3); // the two jobs' and the dead-letter queue's
    expect(() => build([load(1, { max_lag: "soon" } as Partial<JobSpec>)])).toThrow(
      'OpsDashboard: job load/001: max_lag must be a duration like 30m, got "soon"',
    );
  });
});
