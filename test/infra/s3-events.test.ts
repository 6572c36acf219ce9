/** The S3 events rule: deletions are routed only when a trigger asks for them. */
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { wantsRemovalEvents } from "../../lambda/triggers/event-types";
import { S3Events } from "../../lib/constructs/s3-events";
import { realmOf } from "../support/realm-fixture";

function rule(deletions: boolean | undefined) {
  const stack = new Stack(new App(), "T");
  const target = new lambda.Function(stack, "Fn", {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: "index.handler",
    code: lambda.Code.fromInline("exports.handler = async () => {}"),
  });
  new S3Events(stack, "S3Events", {
    realmName: "dev",
    sources: [{ bucket: "landing" }],
    target,
    deadLetters: new sqs.Queue(stack, "Dlq"),
    ...(deletions === undefined ? {} : { deletions }),
  });
  return Template.fromStack(stack);
}

const trigger = (id: string, extra: Record<string, unknown> = {}) => ({
  trigger_id: id,
  bucket: "landing",
  prefix: "*",
  job_id: "j",
  enabled: true,
  ...extra,
});

describe("S3Events", () => {
  it("routes only Object Created events by default", () => {
    rule(undefined).hasResourceProperties("AWS::Events::Rule", {
      EventPattern: Match.objectLike({ "detail-type": ["Object Created"] }),
    });
  });

  it("also routes Object Deleted events when asked to", () => {
    rule(true).hasResourceProperties("AWS::Events::Rule", {
      EventPattern: Match.objectLike({ "detail-type": ["Object Created", "Object Deleted"] }),
    });
  });

  it("is asked to by the realm when an enabled trigger's if_event_type names deletions", () => {
    const jobs = [{ job_id: "j", type: "exe", enabled: true, payload: "x.sh" }];
    const realm = (triggers: unknown[]) => realmOf({ jobs, s3triggers: triggers });
    expect(wantsRemovalEvents(realm([trigger("a")]).triggers)).toBe(false);
    expect(
      wantsRemovalEvents(realm([trigger("a", { if_event_type: "ObjectCreated:*" })]).triggers),
    ).toBe(false);
    expect(
      wantsRemovalEvents(realm([trigger("a", { if_event_type: "ObjectRemoved:*" })]).triggers),
    ).toBe(true);
  });
});
