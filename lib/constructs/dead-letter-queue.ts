/** A realm's dead-letter queue: encrypted with the realm key, TLS only, 14 days (docs/realm-files.md §6). */
import { Duration } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { acknowledge } from "../nag";

/** The queue; `whose` says what it is the dead-letter queue of (cdk-nag's SQS3, acknowledged). */
export function deadLetterQueue(
  scope: Construct,
  id: string,
  props: { readonly queueName: string; readonly key: kms.IKey; readonly whose: string },
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    queueName: props.queueName,
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(
    queue,
    "AwsSolutions-SQS3",
    `this queue is itself the dead-letter queue of ${props.whose}`,
  );
  return queue;
}
