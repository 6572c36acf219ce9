/**
 * Jobs' `schedule`s as EventBridge Scheduler schedules (docs/schedules.md §5): group
 * `lava-<realm>`, each schedule starting an execution of the jobs state machine with
 * `{"job_id", "scheduled_at"}`, through one role only Scheduler, for this group, may
 * assume; what cannot be delivered goes to an encrypted dead-letter queue with alarms.
 * Nothing is made for a realm without scheduled jobs.
 */
import { createHash } from "node:crypto";
import { Duration, RemovalPolicy, Stack, TimeZone } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as targets from "aws-cdk-lib/aws-scheduler-targets";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { toSchedulerCrons } from "../../lambda/spec/cron";
import type { JobSpec } from "../../lambda/spec/job";
import {
  SCHEDULED_AT,
  type SchedulerPlan,
  scheduledJobs,
  schedulerPlans,
} from "../../lambda/spec/schedule";
import { parseDuration } from "../../lambda/spec/units";
import { deadLetterQueue } from "./dead-letter-queue";
import { grantProducerKeyUse } from "./key-grants";
import type { RealmNotices } from "./notices";

export interface JobSchedulesProps {
  readonly realmName: string;
  /** What each schedule starts. */
  readonly stateMachine: sfn.IStateMachine;
  /** The realm's jobs: the enabled ones with a `schedule` get schedules. */
  readonly jobs: readonly JobSpec[];
  /** Encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  /** The realm's `timezone`. @default "UTC" */
  readonly timezone?: string;
  /** Alarms on undeliverable runs notify here. @default - no alarms */
  readonly notices?: RealmNotices;
  /** Synth time: windows already over are left out, past start dates dropped. @default now */
  readonly now?: Date;
}

/** Scheduler's own retry limit and longest event age: a run is retried for up to a day. */
const MAX_RETRIES = 185;
const MAX_EVENT_AGE_S = 86_400;

/** `[0-9A-Za-z_.-]{1,64}`, unique per job id (a hash tells `a/b` from `a-b`). */
function nameOf(jobId: string, n: number): string {
  const hash = createHash("sha256").update(jobId).digest("hex").slice(0, 8);
  return `${jobId.replace(/[^0-9A-Za-z_.-]/g, "-").slice(0, 40)}-${hash}-${n}`;
}

function describe(jobId: string, plan: SchedulerPlan, zone: string): string {
  const { entry } = plan;
  const window = [
    entry.from ? `from ${entry.from.toISOString()}` : "",
    entry.to ? `to ${entry.to.toISOString()}` : "",
  ].filter(Boolean);
  const text = [
    `lava job ${jobId}: ${entry.at} "${entry.cron}" (${zone})`,
    window.length > 0 ? `active ${window.join(" ")}` : "",
    // vixie cron fires on either day field; Scheduler takes one, so there are two schedules.
    toSchedulerCrons(entry.spec).length === 2 ? `its ${plan.days} half` : "",
  ].filter(Boolean);
  return text.join(", ").slice(0, 512);
}

export class JobSchedules extends Construct {
  /** Group `lava-<realm>`; undefined when no job is scheduled. */
  readonly group?: scheduler.ScheduleGroup;
  readonly schedules: scheduler.Schedule[] = [];
  readonly deadLetters?: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobSchedulesProps) {
    super(scope, id);
    const zone = props.timezone ?? "UTC";
    const jobs = scheduledJobs(props.jobs, zone).map(({ job, entries }) => ({
      job,
      plans: schedulerPlans(entries, props.now ?? new Date()),
    }));
    if (!jobs.some((j) => j.plans.length > 0)) return;

    const stack = Stack.of(this);
    const groupName = `lava-${props.realmName}`;
    // It holds only this stack's schedules: kept, it would block creating the stack again.
    const group = new scheduler.ScheduleGroup(this, "Group", {
      scheduleGroupName: groupName,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.group = group;
    this.deadLetters = deadLetterQueue(this, "DeadLetters", {
      queueName: `lava-${props.realmName}-schedules-dlq`,
      key: props.key,
      whose: "the realm's job schedules",
    });
    // Only Scheduler, for this account's lava-<realm> group, against the confused deputy.
    const role = new iam.Role(this, "Role", {
      description: `lava-aurora realm ${props.realmName}: schedules start the jobs state machine`,
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: {
          StringEquals: {
            "aws:SourceAccount": stack.account,
            "aws:SourceArn": stack.formatArn({
              service: "scheduler",
              resource: "schedule-group",
              resourceName: groupName,
            }),
          },
        },
      }),
    });
    // Scheduler sends to the dead-letter queue as this role: SQS then needs the key for it.
    grantProducerKeyUse(props.key, role, { service: "sqs", arn: this.deadLetters.queueArn });

    for (const { job, plans } of jobs) {
      // lava drops a run that starts more than max_run_delay late: retrying longer is pointless.
      const delayMs =
        job.max_run_delay === undefined ? undefined : parseDuration(job.max_run_delay);
      const maxAge = Math.min(
        MAX_EVENT_AGE_S,
        Math.max(60, Math.ceil((delayMs ?? MAX_EVENT_AGE_S * 1000) / 1000)),
      );
      plans.forEach((plan, i) => {
        const name = nameOf(job.job_id, i + 1);
        const target = new targets.StepFunctionsStartExecution(props.stateMachine, {
          role,
          deadLetterQueue: this.deadLetters,
          retryAttempts: MAX_RETRIES,
          maxEventAge: Duration.seconds(maxAge),
          input: scheduler.ScheduleTargetInput.fromObject({
            job_id: job.job_id,
            [SCHEDULED_AT]: scheduler.ContextAttribute.scheduledTime,
          }),
        });
        const schedule = new scheduler.Schedule(this, name, {
          scheduleName: name,
          scheduleGroup: group,
          description: describe(job.job_id, plan, zone),
          schedule: scheduler.ScheduleExpression.expression(plan.expression, TimeZone.of(zone)),
          target,
          timeWindow: scheduler.TimeWindow.off(),
          ...(plan.start ? { start: plan.start } : {}),
          ...(plan.end ? { end: plan.end } : {}),
        });
        // The schedule names its group and role's policy only by name: create them first.
        schedule.node.addDependency(group, role);
        this.schedules.push(schedule);
      });
    }

    const realm = `lava-${props.realmName}`;
    props.notices?.alarm("SchedulesDeadLettersAlarm", {
      alarmName: `${realm}-schedules-dead-letters`,
      alarmDescription:
        `Scheduled runs of ${realm} jobs that could not be started ` +
        `wait in ${realm}-schedules-dlq`,
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
      }),
    });
    props.notices?.alarm("SchedulesLostAlarm", {
      alarmName: `${realm}-schedules-dead-letters-lost`,
      alarmDescription: `Scheduler could neither start nor dead-letter runs of ${realm} jobs`,
      metric: group.metricFailedToBeSentToDLQ(undefined, { period: Duration.minutes(5) }),
    });
  }
}
