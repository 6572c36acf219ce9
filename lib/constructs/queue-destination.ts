/**
 * A Lambda asynchronous-invocation destination on an SSE-KMS queue, granting
 * the function's role what Lambda needs to deliver there and nothing more.
 */
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { grantProducerKeyUse } from "./key-grants";

/**
 * Like `aws-lambda-destinations.SqsDestination`, for a queue encrypted with a
 * customer managed key: Lambda sends with the function's role, so the role gets
 * `sqs:SendMessage` on the queue and the key only through SQS, for that queue.
 */
export class EncryptedQueueDestination implements lambda.IDestination {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly key: kms.IKey,
  ) {}

  bind(_scope: Construct, fn: lambda.IFunction): lambda.DestinationConfig {
    this.queue.grant(fn, "sqs:SendMessage");
    grantProducerKeyUse(this.key, fn, { service: "sqs", arn: this.queue.queueArn });
    return { destination: this.queue.queueArn };
  }
}
