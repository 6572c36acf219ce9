/**
 * Where a realm tells people something went wrong: SNS topic
 * `lava-<realm>-notices` (encrypted, TLS only), the dead-letter queue for the
 * s3trigger function's failed events, and alarms on both. The AWS services
 * that deliver to them (CloudWatch alarms, EventBridge) get what they need on
 * the topic and the key, bound to the realm's alarms, topic and queue.
 */
import { ArnFormat, Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { deadLetterQueue } from "./dead-letter-queue";
import { ENCRYPTION_CONTEXT } from "./key-grants";

export interface RealmNoticesProps {
  readonly realmName: string;
  /** Encrypts the topic and the queue; its key policy must be editable (a key of this stack). */
  readonly key: kms.IKey;
}

export class RealmNotices extends Construct {
  readonly topic: sns.Topic;
  /** Failed s3trigger events: EventBridge delivery failures and the function's own asynchronous failures. */
  readonly deadLetters: sqs.Queue;
  private readonly key: kms.IKey;
  private readonly realmName: string;

  constructor(scope: Construct, id: string, props: RealmNoticesProps) {
    super(scope, id);
    this.key = props.key;
    this.realmName = props.realmName;
    const topicName = `lava-${props.realmName}-notices`;
    this.topic = new sns.Topic(this, "Topic", {
      topicName,
      displayName: `lava-aurora realm ${props.realmName}`,
      masterKey: props.key,
      enforceSSL: true,
    });
    this.deadLetters = deadLetterQueue(this, "DeadLetters", {
      queueName: this.deadLettersName,
      key: props.key,
      whose: "the s3trigger function and its EventBridge target",
    });
    this.allowAlarmsToPublish(topicName);
    this.alarm("DeadLettersAlarm", {
      alarmName: `lava-${props.realmName}-s3trigger-dead-letters`,
      alarmDescription:
        "S3 events the s3trigger function could not handle are waiting in its dead-letter queue",
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
      }),
    });
  }

  /** `lava-<realm>-s3trigger-dlq`. */
  get deadLettersName(): string {
    return `lava-${this.realmName}-s3trigger-dlq`;
  }

  /**
   * Let EventBridge put the events its rules cannot deliver into the dead-letter
   * queue: SQS encrypts them with the key for `events.amazonaws.com`, so without
   * this key-policy grant they are dropped. Bound to this queue by the encryption
   * context SQS sets itself; the queue's own policy admits only the realm's rule
   * (`aws:SourceArn`). No `aws:SourceArn`/`aws:SourceAccount` here: AWS documents
   * this grant without them, and a condition on a key the request lacks denies.
   */
  allowEventBridgeDeadLetters(): void {
    this.addToKeyPolicy(
      new iam.PolicyStatement({
        sid: "EventBridgeDeadLetters",
        principals: [new iam.ServicePrincipal("events.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: ["*"],
        conditions: {
          // Named, not the queue's attribute: the queue refers to the key already.
          StringEquals: {
            [ENCRYPTION_CONTEXT.sqs]: Stack.of(this).formatArn({
              service: "sqs",
              resource: this.deadLettersName,
            }),
          },
        },
      }),
    );
  }

  /**
   * CloudWatch publishes alarm notifications as `cloudwatch.amazonaws.com`: the
   * topic's policy (which replaces SNS's default one) and the key policy must let
   * it, for the realm's alarms (`lava-<realm>-*`) of this account only.
   */
  private allowAlarmsToPublish(topicName: string): void {
    const stack = Stack.of(this);
    const alarms = stack.formatArn({
      service: "cloudwatch",
      resource: "alarm",
      resourceName: `lava-${this.realmName}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const fromRealmAlarms = {
      ArnLike: { "aws:SourceArn": alarms },
      StringEquals: { "aws:SourceAccount": stack.account },
    };
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "RealmAlarmsPublish",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: fromRealmAlarms,
      }),
    );
    this.addToKeyPolicy(
      new iam.PolicyStatement({
        sid: "AlarmsPublishNotices",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: {
          ...fromRealmAlarms,
          StringEquals: {
            ...fromRealmAlarms.StringEquals,
            // Named, not the topic's attribute: the topic refers to the key already.
            [ENCRYPTION_CONTEXT.sns]: stack.formatArn({ service: "sns", resource: topicName }),
          },
        },
      }),
    );
  }

  private addToKeyPolicy(statement: iam.PolicyStatement): void {
    if (!this.key.addToResourcePolicy(statement).statementAdded) {
      throw new Error(
        `RealmNotices: the key's policy cannot be changed (an imported key?), so ${statement.sid} would be missing and deliveries lost, got key ${this.key.node.path}`,
      );
    }
  }

  /**
   * An alarm that fires when `metric` is above `threshold` (default zero), notifying
   * the topic. Its name must start with `lava-<realm>-`: only those may publish.
   */
  alarm(
    id: string,
    props: {
      alarmName: string;
      alarmDescription: string;
      metric: cloudwatch.IMetric;
      threshold?: number;
    },
  ): cloudwatch.Alarm {
    if (!props.alarmName.startsWith(`lava-${this.realmName}-`))
      throw new Error(
        `RealmNotices.alarm: the name must start with lava-${this.realmName}- (only those alarms may publish to the topic), got ${JSON.stringify(props.alarmName)}`,
      );
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      threshold: props.threshold ?? 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    return alarm;
  }
}
