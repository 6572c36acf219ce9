/**
 * CloudWatch dashboard `lava-<realm>` and the per-job alarms (docs/operations.md §2):
 * runs and failures per job, lag and throughput of the loads, skips, run time and
 * delay, dead letters, the state machine's executions, and the realm's alarms.
 * One metric per job of the realm file, known at synth: the dashboard and the
 * metrics' cardinality are bounded by the realm's own jobs (docs/operations.md §1).
 */
import { createHash } from "node:crypto";
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, type RunMetricName } from "../../lambda/jobs/run-metrics";
import type { JobSpec } from "../../lambda/spec/job";
import { parseDuration } from "../../lambda/spec/units";
import type { RealmNotices } from "./notices";

/** Job types the state machine runs itself (their children are runs): no run metrics of their own. */
const PIPELINE_TYPES: readonly JobSpec["type"][] = ["chain", "dag", "foreach"];

/** Metrics (or alarms) per widget: more jobs get more widgets (GetMetricWidgetImage draws at most 100). */
export const MAX_METRICS_PER_GRAPH = 100;

export interface OpsDashboardProps {
  readonly realmName: string;
  /** The realm's jobs: one metric per job, alarms per job (lag for those with `max_lag`). */
  readonly jobs: readonly JobSpec[];
  /** The jobs state machine: its executions' graph. */
  readonly stateMachine: sfn.IStateMachine;
  /** The alarms notify its topic; its s3trigger dead-letter queue is graphed. */
  readonly notices: RealmNotices;
  /** The schedules' dead-letter queue. @default - none graphed (no scheduled job) */
  readonly scheduleDeadLetters?: sqs.IQueue;
  /** The period of the graphs and alarms. @default Duration.minutes(5) */
  readonly period?: Duration;
  /** Alarms of the stack made elsewhere, shown in the dashboard's alarm status. @default - none */
  readonly otherAlarms?: readonly cloudwatch.IAlarm[];
}

/** A construct id unique per job id (a hash tells `a/b` from `a-b`), stable when jobs are added. */
function idOf(jobId: string): string {
  const hash = createHash("sha256").update(jobId).digest("hex").slice(0, 8);
  return `${jobId.replace(/[^0-9A-Za-z]/g, "").slice(0, 40)}${hash}`;
}

export class OpsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** `lava-<realm>-job-<job_id>-failed`, one per job that runs. */
  readonly failureAlarms: cloudwatch.Alarm[] = [];
  /** `lava-<realm>-job-<job_id>-lag`, one per job with `max_lag`. */
  readonly lagAlarms: cloudwatch.Alarm[] = [];
  private readonly realmName: string;
  private readonly period: Duration;

  constructor(scope: Construct, id: string, props: OpsDashboardProps) {
    super(scope, id);
    this.realmName = props.realmName;
    this.period = props.period ?? Duration.minutes(5);
    const runs = props.jobs.filter((j) => !PIPELINE_TYPES.includes(j.type));
    const loads = runs.filter((j) => j.type === "db_from_s3");
    for (const job of props.jobs) {
      if (job.max_lag !== undefined && parseDuration(job.max_lag) === undefined)
        throw new Error(
          `OpsDashboard: job ${job.job_id}: max_lag must be a duration like 30m, got ${JSON.stringify(job.max_lag)}`,
        );
    }

    for (const job of runs) {
      this.failureAlarms.push(
        props.notices.alarm(`JobFailed${idOf(job.job_id)}`, {
          alarmName: `lava-${this.realmName}-job-${job.job_id}-failed`,
          alarmDescription: `Runs of job ${job.job_id} failed (JobFailed, an attempt a retry may yet cure included)`,
          metric: this.metric("JobFailed", job.job_id, cloudwatch.Stats.SUM, false),
        }),
      );
      const maxLag = job.max_lag === undefined ? undefined : parseDuration(job.max_lag);
      if (maxLag !== undefined)
        this.lagAlarms.push(
          props.notices.alarm(`JobLag${idOf(job.job_id)}`, {
            alarmName: `lava-${this.realmName}-job-${job.job_id}-lag`,
            alarmDescription: `Job ${job.job_id} committed a run more than max_lag ${job.max_lag} after its S3 event`,
            metric: this.metric("Lag", job.job_id, cloudwatch.Stats.MAXIMUM, false),
            threshold: maxLag,
          }),
        );
    }

    const perJob = (name: RunMetricName, stat: string, jobs: readonly JobSpec[]) =>
      jobs.map((j) => this.metric(name, j.job_id, stat));
    const sm = props.stateMachine;
    const smMetric = { period: this.period, statistic: cloudwatch.Stats.SUM };
    const deadLetters = [
      props.notices.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: this.period,
        statistic: cloudwatch.Stats.MAXIMUM,
        label: "s3trigger dead letters",
      }),
      ...(props.scheduleDeadLetters
        ? [
            props.scheduleDeadLetters.metricApproximateNumberOfMessagesVisible({
              period: this.period,
              statistic: cloudwatch.Stats.MAXIMUM,
              label: "schedule dead letters",
            }),
          ]
        : []),
    ];
    const lagAnnotations = runs.flatMap((j) => {
      const ms = j.max_lag === undefined ? undefined : parseDuration(j.max_lag);
      return ms === undefined ? [] : [{ value: ms, label: `${j.job_id} max_lag ${j.max_lag}` }];
    });

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: `lava-${this.realmName}`,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# lava-aurora realm ${this.realmName}\nRuns of its ${runs.length} jobs (namespace \`${METRICS_NAMESPACE}\`, dimensions realm and job_id), the state machine \`lava-${this.realmName}-jobs\`, dead letters and alarms. Metrics: docs/operations.md §1.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      ...this.graphs("Runs per job", perJob("JobFailed", cloudwatch.Stats.SAMPLE_COUNT, runs), 12),
      ...this.graphs("Failed runs per job", perJob("JobFailed", cloudwatch.Stats.SUM, runs), 12),
    );
    this.dashboard.addWidgets(
      ...this.graphs("Lag: S3 event to commit (ms, max)", perJob("Lag", "Maximum", runs), 12, {
        leftAnnotations: lagAnnotations,
      }),
      ...this.graphs(
        "Load throughput (MB/s)",
        perJob("LoadThroughput", cloudwatch.Stats.AVERAGE, loads),
        12,
      ),
    );
    this.dashboard.addWidgets(
      ...this.graphs("Rows loaded", perJob("RowsLoaded", cloudwatch.Stats.SUM, loads), 6),
      ...this.graphs("Bytes loaded", perJob("BytesLoaded", cloudwatch.Stats.SUM, loads), 6),
      ...this.graphs("Run time (ms, max)", perJob("RunTime", cloudwatch.Stats.MAXIMUM, runs), 6),
      ...this.graphs("Run delay (ms, max)", perJob("RunDelay", cloudwatch.Stats.MAXIMUM, runs), 6),
    );
    this.dashboard.addWidgets(
      ...this.graphs(
        "Skipped and rejected",
        [
          ...perJob("DuplicatesSkipped", cloudwatch.Stats.SUM, loads),
          ...perJob("StaleSkipped", cloudwatch.Stats.SUM, loads),
          ...perJob("RowsRejected", cloudwatch.Stats.SUM, loads),
        ],
        8,
      ),
      new cloudwatch.GraphWidget({
        title: "Dead letters waiting",
        left: deadLetters,
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: "State machine executions",
        left: [
          sm.metricStarted({ ...smMetric, label: "started" }),
          sm.metricSucceeded({ ...smMetric, label: "succeeded" }),
          sm.metricFailed({ ...smMetric, label: "failed" }),
          sm.metricTimedOut({ ...smMetric, label: "timed out" }),
          sm.metricAborted({ ...smMetric, label: "aborted" }),
        ],
        width: 8,
        height: 6,
      }),
    );
    const alarms = [...(props.otherAlarms ?? []), ...this.failureAlarms, ...this.lagAlarms];
    const alarmChunks = Math.max(1, Math.ceil(alarms.length / MAX_METRICS_PER_GRAPH));
    this.dashboard.addWidgets(
      ...Array.from(
        { length: alarmChunks },
        (_, i) =>
          new cloudwatch.AlarmStatusWidget({
            title: alarmChunks > 1 ? `Alarms (${i + 1}/${alarmChunks})` : "Alarms",
            alarms: alarms.slice(i * MAX_METRICS_PER_GRAPH, (i + 1) * MAX_METRICS_PER_GRAPH),
            width: 24,
            height: 6,
          }),
      ),
    );
  }

  /** A run metric of one job; in graphs labelled with its job id (an alarm's stays plain). */
  private metric(
    name: RunMetricName,
    jobId: string,
    statistic: string,
    labelled = true,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { realm: this.realmName, job_id: jobId },
      statistic,
      period: this.period,
      ...(labelled ? { label: `${jobId} ${name}` } : {}),
    });
  }

  /** One graph, or several (`title (2/3)`) when the metrics are more than one may hold. */
  private graphs(
    title: string,
    metrics: readonly cloudwatch.IMetric[],
    width: number,
    extra: Pick<cloudwatch.GraphWidgetProps, "leftAnnotations"> = {},
  ): cloudwatch.GraphWidget[] {
    const chunks: cloudwatch.IMetric[][] = [];
    for (let i = 0; i < Math.max(1, metrics.length); i += MAX_METRICS_PER_GRAPH)
      chunks.push(metrics.slice(i, i + MAX_METRICS_PER_GRAPH));
    return chunks.map(
      (left, i) =>
        new cloudwatch.GraphWidget({
          title: chunks.length > 1 ? `${title} (${i + 1}/${chunks.length})` : title,
          left,
          width,
          height: 6,
          ...extra,
        }),
    );
  }
}
