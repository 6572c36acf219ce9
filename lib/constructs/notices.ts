/**
 * Where a realm tells people something went wrong: SNS topic
 * `lava-<realm>-notices` (encrypted, TLS only), the dead-letter queue for the
 * s3trigger function's failed events, and alarms on both.
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { acknowledge } from "../nag";

export interface RealmNoticesProps {
  readonly realmName: string;
  /** Encrypts the topic and the queue. */
  readonly key: kms.IKey;
}

export class RealmNotices extends Construct {
  readonly topic: sns.Topic;
  /** Failed s3trigger events: EventBridge delivery failures and the function's own asynchronous failures. */
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: RealmNoticesProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, "Topic", {
      topicName: `lava-${props.realmName}-notices`,
      displayName: `lava-aurora realm ${props.realmName}`,
      masterKey: props.key,
      enforceSSL: true,
    });
    this.deadLetters = new sqs.Queue(this, "DeadLetters", {
      queueName: `lava-${props.realmName}-s3trigger-dlq`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetters,
      "AwsSolutions-SQS3",
      "this queue is itself the dead-letter queue of the s3trigger function and its EventBridge target",
    );
    this.alarm("DeadLettersAlarm", {
      alarmName: `lava-${props.realmName}-s3trigger-dead-letters`,
      alarmDescription:
        "S3 events the s3trigger function could not handle are waiting in its dead-letter queue",
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
      }),
    });
  }

  /** An alarm that fires when `metric` is above zero, notifying the topic. */
  alarm(
    id: string,
    props: { alarmName: string; alarmDescription: string; metric: cloudwatch.IMetric },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    return alarm;
  }
}
