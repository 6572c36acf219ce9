/**
 * Uses of a KMS key that happen only inside another service: a producer of an
 * SSE-KMS queue or topic needs `kms:GenerateDataKey` and `kms:Decrypt`, and
 * only when SQS or SNS calls KMS for that one queue or topic.
 */
import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";

/** The encryption context each service puts on its KMS calls, naming the queue or topic. */
export const ENCRYPTION_CONTEXT = {
  sqs: "kms:EncryptionContext:aws:sqs:arn",
  sns: "kms:EncryptionContext:aws:sns:topicArn",
} as const;

/** Where the key is used: SQS for a queue, SNS for a topic. */
export interface KeyUse {
  readonly service: keyof typeof ENCRYPTION_CONTEXT;
  /** The queue's or topic's ARN. */
  readonly arn: string;
}

/** `<service>.<region>.amazonaws.com`, as `kms:ViaService` compares it. */
export function viaService(scope: kms.IKey, service: string): string {
  return `${service}.${Stack.of(scope).region}.amazonaws.com`;
}

/**
 * Let `grantee` send to an encrypted queue or publish to an encrypted topic:
 * `kms:Decrypt` and `kms:GenerateDataKey` on `key`, only through that service
 * (`kms:ViaService`) and for that queue or topic (its encryption context).
 * CDK's `grantSendMessages` would also give `kms:Encrypt`, `kms:ReEncrypt*` and
 * `kms:GenerateDataKey*`, usable directly.
 */
export function grantProducerKeyUse(
  key: kms.IKey,
  grantee: iam.IGrantable,
  use: KeyUse,
): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ["kms:Decrypt", "kms:GenerateDataKey"],
    resourceArns: [key.keyArn],
    conditions: {
      StringEquals: {
        "kms:ViaService": viaService(key, use.service),
        [ENCRYPTION_CONTEXT[use.service]]: use.arn,
      },
    },
  });
}
