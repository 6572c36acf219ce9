/**
 * Stack `lava-<realm>` (docs/realm-files.md §1, §6): the realm key, the runner and s3trigger
 * functions, the jobs state machine, the S3 event rule, notices, and the SSM
 * parameters tools use to find them.
 */
import { readFileSync } from "node:fs";
import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as ssm from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import { parseS3Location } from "../lambda/shared/s3-objects";
import type { Realm } from "../lambda/spec/realm";
import { encodeRealmBundle } from "../lambda/spec/realm-bundle";
import { parseDuration } from "../lambda/spec/units";
import { wantsRemovalEvents } from "../lambda/triggers/event-types";
import { AuroraS3Import } from "./constructs/aurora-import";
import { ExeFunction } from "./constructs/exe-function";
import { JobSchedules } from "./constructs/job-schedules";
import { JobsStateMachine } from "./constructs/jobs-state-machine";
import { grantProducerKeyUse, viaService } from "./constructs/key-grants";
import { RealmNotices } from "./constructs/notices";
import { OpsDashboard } from "./constructs/ops-dashboard";
import { EncryptedQueueDestination } from "./constructs/queue-destination";
import {
  actionStatements,
  payloadStatements,
  realmAccessStatements,
} from "./constructs/realm-access";
import { RealmFunction } from "./constructs/realm-function";
import { S3Events } from "./constructs/s3-events";
import { type RealmVpc, RealmVpcEndpoints, realmVpc } from "./constructs/vpc-endpoints";
import { acknowledgeWildcard } from "./nag";

export interface RealmStackProps extends StackProps {
  /** The validated realm this stack deploys. */
  readonly realm: Realm;
  /** Where database-facing functions run. @default - the realm's `vpc`; outside any VPC without one */
  readonly vpc?: RealmVpc;
}

/** Everything one realm needs, named after it. */
export class RealmStack extends Stack {
  /** KMS key `alias/lava-<realm>-sys`: encrypts the realm's SecureStrings, secrets and notices. */
  readonly realmKey: kms.Key;
  readonly runner: RealmFunction;
  readonly s3trigger: RealmFunction;
  readonly resolver: RealmFunction;
  /** `lava-<realm>-exe`, when the realm enables exe/pkg jobs. */
  readonly exe?: ExeFunction;
  readonly jobs: JobsStateMachine;
  readonly notices: RealmNotices;
  /** Dashboard `lava-<realm>` and the per-job alarms. */
  readonly ops: OpsDashboard;

  constructor(scope: Construct, id: string, props: RealmStackProps) {
    super(scope, id, props);
    const { realm } = props;
    const name = realm.name;
    this.realmKey = new kms.Key(this, "RealmKey", {
      alias: `alias/lava-${name}-sys`,
      description: `lava-aurora realm ${name}: SSM SecureStrings, secrets and notices`,
      enableKeyRotation: true,
      // Deleting the key would make every stored password unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const vpcSpec = realm.top.vpc;
    const vpcIds = vpcSpec && {
      vpcId: vpcSpec.vpc_id,
      subnetIds: vpcSpec.subnet_ids,
      securityGroupIds: vpcSpec.security_group_ids,
    };
    const vpc = props.vpc ?? (vpcIds ? realmVpc(this, "Vpc", vpcIds) : undefined);
    if (vpcIds && vpcSpec?.create_endpoints) {
      new RealmVpcEndpoints(this, "Endpoints", {
        ...vpcIds,
        routeTableIds: vpcSpec.route_table_ids ?? [],
      });
    }
    const clusters = realm.top.aurora_clusters ?? [];
    if (clusters.some((c) => c.s3_import)) {
      const temp = realm.top.s3_temp ? parseS3Location(realm.top.s3_temp) : undefined;
      new AuroraS3Import(this, "AuroraS3Import", {
        realmName: name,
        sources: (realm.top.s3_sources ?? []).map((s) => ({
          bucket: s.bucket,
          ...(s.prefix ? { prefix: s.prefix } : {}),
          ...(s.kms_key_arn ? { kmsKeyArn: s.kms_key_arn } : {}),
        })),
        ...(temp ? { temp } : {}),
        clusters: clusters.map((c) => ({
          clusterIdentifier: c.cluster_identifier,
          s3Import: c.s3_import === true,
        })),
      });
    }

    const caFile = realm.top.ssl_ca_file;
    const realmBundle = encodeRealmBundle({
      realm,
      ...(caFile ? { caPem: readFileSync(caFile, "utf8") } : {}),
    });
    const runnerSettings = realm.top.runner ?? {};
    const jobsArn = this.formatArn({
      service: "states",
      resource: "stateMachine",
      resourceName: `lava-${name}-jobs`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.runner = new RealmFunction(this, "Runner", {
      realmName: name,
      name: "runner",
      realmBundle,
      description: `lava-aurora realm ${name}: runs jobs`,
      memoryMb: runnerSettings.memory_mb ?? 1024,
      timeout: Duration.millis(parseDuration(runnerSettings.timeout ?? "15m") ?? 900_000),
      // A burst of files must not exhaust the database's connections.
      reservedConcurrency: runnerSettings.reserved_concurrency ?? 5,
      ...(vpc ? { vpc } : {}),
      // The dispatch action starts executions of it (by name: no dependency on the machine).
      environment: { LAVA_STATE_MACHINE_ARN: jobsArn },
    });
    // sql jobs read their files from s3_payloads in the runner; without one it reads none.
    const runnerReadsPayloads = realm.jobs.some((j) => j.type === "sql");
    this.grantRealmAccess(name, this.runner, this.runner.fn, [
      ...realmAccessStatements(this, realm),
      ...actionStatements(this, realm, jobsArn),
      ...(runnerReadsPayloads ? payloadStatements(this, realm) : []),
    ]);

    this.notices = new RealmNotices(this, "Notices", { realmName: name, key: this.realmKey });
    this.resolver = new RealmFunction(this, "Resolve", {
      realmName: name,
      name: "resolve",
      realmBundle,
      description: `lava-aurora realm ${name}: validates dispatches for the jobs state machine`,
      timeout: Duration.seconds(30),
    });
    if (realm.top.exe?.enabled) {
      this.exe = new ExeFunction(this, "Exe", {
        realmName: name,
        realmBundle,
        memoryMb: runnerSettings.memory_mb ?? 1024,
        timeout: Duration.millis(parseDuration(runnerSettings.timeout ?? "15m") ?? 900_000),
        ...(vpc ? { vpc } : {}),
      });
      this.grantRealmAccess(name, this.exe, this.exe.fn, [
        ...realmAccessStatements(this, realm),
        ...payloadStatements(this, realm),
      ]);
    }
    this.jobs = new JobsStateMachine(this, "Jobs", {
      realmName: name,
      resolve: this.resolver.fn,
      runner: this.runner.fn,
      ...(this.exe ? { exe: this.exe.fn } : {}),
      notices: this.notices.topic,
      ...(realm.top.s3_temp ? { itemsBucket: parseS3Location(realm.top.s3_temp).bucket } : {}),
      fanOut: realm.jobs.some(
        (j) =>
          j.type === "db_from_s3" &&
          j.parameters?.fan_out !== undefined &&
          j.parameters.fan_out !== false,
      ),
    });
    // Jobs' `schedule`s start the state machine (docs/schedules.md §5).
    const schedules = new JobSchedules(this, "Schedules", {
      realmName: name,
      stateMachine: this.jobs.stateMachine,
      jobs: realm.jobs,
      key: this.realmKey,
      notices: this.notices,
      ...(realm.top.timezone ? { timezone: realm.top.timezone } : {}),
    });
    // Publishing to the notices topic needs its key, only ever through SNS.
    grantProducerKeyUse(this.realmKey, this.jobs.stateMachine, {
      service: "sns",
      arn: this.notices.topic.topicArn,
    });
    this.notices.alarm("FailedRunsAlarm", {
      alarmName: `lava-${name}-jobs-failed`,
      alarmDescription: `Executions of lava-${name}-jobs failed`,
      metric: this.jobs.stateMachine.metricFailed({ period: Duration.minutes(5) }),
    });

    this.s3trigger = new RealmFunction(this, "S3Trigger", {
      realmName: name,
      name: "s3trigger",
      realmBundle,
      description: `lava-aurora realm ${name}: S3 events to job dispatches`,
      environment: { STATE_MACHINE_ARN: this.jobs.stateMachine.stateMachineArn },
    });
    this.jobs.stateMachine.grantStartExecution(this.s3trigger.fn);
    const sources = realm.top.s3_sources ?? [];
    if (sources.length > 0) {
      // The function's own failures (after Lambda's retries) land in the same queue as EventBridge's.
      this.s3trigger.fn.configureAsyncInvoke({
        retryAttempts: 2,
        onFailure: new EncryptedQueueDestination(this.notices.deadLetters, this.realmKey),
      });
      const s3Events = new S3Events(this, "S3Events", {
        realmName: name,
        sources,
        target: this.s3trigger.fn,
        deadLetters: this.notices.deadLetters,
        deletions: wantsRemovalEvents(realm.triggers),
      });
      this.notices.allowEventBridgeDeadLetters();
      // A dead-letter queue that cannot be written to must not fail silently.
      this.notices.alarm("S3EventsLostAlarm", {
        alarmName: `lava-${name}-s3events-dead-letters-lost`,
        alarmDescription: `EventBridge could deliver S3 events neither to lava-${name}-s3trigger nor to its dead-letter queue`,
        metric: s3Events.metricLostEvents({ period: Duration.minutes(5) }),
      });
      this.notices.alarm("S3TriggerLostAlarm", {
        alarmName: `lava-${name}-s3trigger-dead-letters-lost`,
        alarmDescription: `Lambda could not put failed events of lava-${name}-s3trigger into its dead-letter queue`,
        metric: this.s3trigger.fn.metric("DestinationDeliveryFailures", {
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(5),
        }),
      });
    }

    // Runs, failures, lag and dead letters at a glance; alarms per job; with every
    // alarm made above in its status widget (docs/operations.md §2).
    this.ops = new OpsDashboard(this, "Operations", {
      realmName: name,
      jobs: realm.jobs,
      stateMachine: this.jobs.stateMachine,
      notices: this.notices,
      ...(schedules.deadLetters ? { scheduleDeadLetters: schedules.deadLetters } : {}),
      otherAlarms: this.node.findAll().filter((c) => c instanceof cloudwatch.Alarm),
    });

    new ssm.StringParameter(this, "StateMachineArn", {
      parameterName: `/lava/${name}/state-machine-arn`,
      stringValue: this.jobs.stateMachine.stateMachineArn,
      description: `lava-aurora realm ${name}: the jobs state machine`,
    });
    new ssm.StringParameter(this, "NoticesTopicArn", {
      parameterName: `/lava/${name}/notices-topic-arn`,
      stringValue: this.notices.topic.topicArn,
      description: `lava-aurora realm ${name}: the notices topic`,
    });
  }

  /** Key policy: the principal may decrypt with the realm key, only through SSM and Secrets Manager. */
  /**
   * A job function's realm statements (prefix-scoped: parameters and secrets under
   * /lava/<realm>/, the realm's S3 prefixes), each prefix wildcard acknowledged for
   * cdk-nag with its statement's reason, and the realm key through SSM/Secrets Manager.
   */
  private grantRealmAccess(
    realmName: string,
    scope: Construct,
    fn: lambda.IFunction,
    statements: readonly iam.PolicyStatement[],
  ): void {
    for (const statement of statements) {
      fn.addToRolePolicy(statement);
      for (const resource of statement.resources.filter((r) => r.endsWith("*"))) {
        acknowledgeWildcard(
          scope,
          this,
          resource,
          `${statement.sid}: a prefix inside the realm (parameters and secrets under /lava/${realmName}/, its payload, source and temporary S3 prefixes), never a whole service`,
        );
      }
    }
    this.allowKeyViaServices(fn.role as iam.IRole);
  }

  private allowKeyViaServices(principal: iam.IRole): void {
    this.realmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `DecryptViaServices${this.node.children.length}`,
        principals: [principal],
        actions: ["kms:Decrypt"],
        resources: ["*"],
        conditions: {
          StringEquals: {
            "kms:ViaService": [
              viaService(this.realmKey, "ssm"),
              viaService(this.realmKey, "secretsmanager"),
            ],
          },
        },
      }),
    );
  }
}
