/**
 * EventBridge rule `lava.<realm>.s3`: "Object Created" (and, when a trigger asks
 * for deletions, "Object Deleted") events of the realm's
 * source buckets (and prefixes) to the s3trigger function, with a target
 * dead-letter queue for events EventBridge cannot deliver.
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface S3EventsProps {
  readonly realmName: string;
  readonly sources: readonly { bucket: string; prefix?: string }[];
  readonly target: lambda.IFunction;
  readonly deadLetters: sqs.IQueue;
  /**
   * Also route "Object Deleted" events: set when a trigger's `if_event_type` names
   * deletions (`ObjectRemoved:*`, `LifecycleExpiration:*`); realms without such
   * triggers pay for no deletion invocations.
   * @default false
   */
  readonly deletions?: boolean;
}

/** The event pattern's `detail`: each bucket, limited to its prefix when it has one. */
export function objectCreatedDetail(sources: S3EventsProps["sources"]): Record<string, unknown> {
  const one = (s: S3EventsProps["sources"][number]) => ({
    bucket: { name: [s.bucket] },
    ...(s.prefix ? { object: { key: [{ prefix: s.prefix }] } } : {}),
  });
  return sources.length === 1
    ? one(sources[0] as S3EventsProps["sources"][number])
    : { $or: sources.map(one) };
}

export class S3Events extends Construct {
  readonly rule: events.Rule;
  /** `lava.<realm>.s3`. */
  readonly ruleName: string;

  constructor(scope: Construct, id: string, props: S3EventsProps) {
    super(scope, id);
    if (props.sources.length === 0)
      throw new Error("S3Events: needs at least one source bucket, got none");
    this.ruleName = `lava.${props.realmName}.s3`;
    this.rule = new events.Rule(this, "Rule", {
      ruleName: this.ruleName,
      description: `S3 objects created${props.deletions ? " and deleted" : ""} in lava-aurora realm ${props.realmName}'s source buckets`,
      eventPattern: {
        source: ["aws.s3"],
        detailType: props.deletions ? ["Object Created", "Object Deleted"] : ["Object Created"],
        detail: objectCreatedDetail(props.sources),
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.target, {
        deadLetterQueue: props.deadLetters,
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      }),
    );
  }

  /** Events EventBridge could put neither into the function nor into the dead-letter queue: they are lost. */
  metricLostEvents(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: "AWS/Events",
      metricName: "InvocationsFailedToBeSentToDLQ",
      dimensionsMap: { RuleName: this.ruleName },
      statistic: cloudwatch.Stats.SUM,
      ...props,
    });
  }
}
