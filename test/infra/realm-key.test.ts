/**
 * Who may use the realm key alias/lava-<realm>-sys, and how: every role only
 * through the service it uses the key for, every AWS service that delivers to a
 * realm-encrypted queue or topic with what it needs (and no more). Asserted on
 * stack lava-example from realms/example.yaml, and once environment-agnostic.
 */
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { loadRealmFile, realmFileFor } from "../../lambda/spec/load";
import { buildApp } from "../../lib/app";
import { RealmStack } from "../../lib/realm-stack";

const repo = new URL("../..", import.meta.url).pathname;
let template: Template;
let agnostic: Template;

beforeAll(async () => {
  const { stack } = await buildApp(new App({ context: { realm: "example" } }), repo);
  template = Template.fromStack(stack);
  // The same realm without account and region: the stack takes the deploying account's.
  const realm = await loadRealmFile(realmFileFor("example", repo), { expectedRealm: "example" });
  const { account: _account, region: _region, ...top } = realm.top;
  const bare = { ...realm, top };
  agnostic = Template.fromStack(new RealmStack(new App(), "lava-example", { realm: bare }));
}, 120_000);

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: { AWS?: unknown; Service?: unknown };
  Condition?: Record<string, Record<string, unknown>>;
};

const arn = (rest: string) => ({ "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, rest]] });
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

const logicalId = (t: Template, type: string, props: Record<string, unknown>) => {
  const ids = Object.keys(t.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
  return ids[0] as string;
};
const realmKeyId = (t: Template) => logicalId(t, "AWS::KMS::Key", {});
const roleOf = (t: Template, functionName: string) =>
  logicalId(t, "AWS::IAM::Role", { Description: Match.stringLikeRegexp(`^${functionName}:`) });

/** Asserts that the realm key's policy holds `statement`, among others. */
const keyPolicyHas = (t: Template, statement: unknown) =>
  t.hasResourceProperties("AWS::KMS::Key", {
    KeyPolicy: { Statement: Match.arrayWith([statement]) },
  });

/** Asserts that a policy of `role` holds `statements`, among others. */
const rolePolicyHas = (role: unknown, ...statements: unknown[]) =>
  template.hasResourceProperties("AWS::IAM::Policy", {
    Roles: [{ Ref: role }],
    PolicyDocument: { Statement: Match.arrayWith(statements) },
  });

/** A role's use of the realm key through `service`, for the one resource its encryption context names. */
const keyThrough = (service: "sqs" | "sns", context: string, resource: unknown) => ({
  Effect: "Allow",
  Action: ["kms:Decrypt", "kms:GenerateDataKey"],
  Resource: { "Fn::GetAtt": [realmKeyId(template), "Arn"] },
  Condition: {
    StringEquals: {
      "kms:ViaService": `${service}.ap-southeast-2.amazonaws.com`,
      [`kms:EncryptionContext:aws:${service}:${context}`]: resource,
    },
  },
});

function keyPolicy(t: Template): Statement[] {
  const key = t.findResources("AWS::KMS::Key")[realmKeyId(t)];
  return key?.Properties.KeyPolicy.Statement as Statement[];
}

/** Identity statements (role policies) that name the realm key as a resource. */
function realmKeyGrants(t: Template): { roles: unknown; statement: Statement }[] {
  const key = realmKeyId(t);
  const out: { roles: unknown; statement: Statement }[] = [];
  for (const policy of Object.values(t.findResources("AWS::IAM::Policy"))) {
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
      if (JSON.stringify(statement.Resource).includes(`"${key}"`))
        out.push({ roles: policy.Properties.Roles, statement });
    }
  }
  return out;
}

describe("the realm key and EventBridge's dead-letter queue", () => {
  it("lets EventBridge use the realm key for the s3trigger dead-letter queue only, so events it cannot deliver are kept", () => {
    // Assess: what EventBridge needs on an encrypted SQS dead-letter queue, bound to that queue
    keyPolicyHas(template, {
      Sid: "EventBridgeDeadLetters",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: {
        StringEquals: {
          "kms:EncryptionContext:aws:sqs:arn": arn(
            ":sqs:ap-southeast-2:123456789012:lava-example-s3trigger-dlq",
          ),
        },
      },
    });
  });

  it("lets only the realm's rule send to the dead-letter queue", () => {
    const queue = logicalId(template, "AWS::SQS::Queue", {
      QueueName: "lava-example-s3trigger-dlq",
    });
    const rule = logicalId(template, "AWS::Events::Rule", { Name: "lava.example.s3" });
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [rule, "Arn"] } } },
          }),
        ]),
      },
    });
  });

  it("raises a notice when EventBridge or Lambda cannot put a failed event into the dead-letter queue", () => {
    const topic = logicalId(template, "AWS::SNS::Topic", { TopicName: "lava-example-notices" });
    const s3trigger = logicalId(template, "AWS::Lambda::Function", {
      FunctionName: "lava-example-s3trigger",
    });
    const alarmsOnFirstLoss = (
      name: string,
      namespace: string,
      metric: string,
      dimension: object,
    ) =>
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        AlarmName: name,
        Namespace: namespace,
        MetricName: metric,
        Dimensions: [dimension],
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        AlarmActions: [{ Ref: topic }],
      });
    alarmsOnFirstLoss(
      "lava-example-s3events-dead-letters-lost",
      "AWS/Events",
      "InvocationsFailedToBeSentToDLQ",
      { Name: "RuleName", Value: "lava.example.s3" },
    );
    alarmsOnFirstLoss(
      "lava-example-s3trigger-dead-letters-lost",
      "AWS/Lambda",
      "DestinationDeliveryFailures",
      { Name: "FunctionName", Value: { Ref: s3trigger } },
    );
  });
});

describe("the realm key and CloudWatch alarms publishing notices", () => {
  const alarms = arn(":cloudwatch:ap-southeast-2:123456789012:alarm:lava-example-*");

  it("lets the realm's alarms, and no other, publish to the notices topic", () => {
    const topic = logicalId(template, "AWS::SNS::Topic", { TopicName: "lava-example-notices" });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: "RealmAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Resource: { Ref: topic },
            Condition: {
              ArnLike: { "aws:SourceArn": alarms },
              StringEquals: { "aws:SourceAccount": "123456789012" },
            },
          },
        ]),
      },
    });
  });

  it("lets the realm's alarms use the realm key for the notices topic only", () => {
    keyPolicyHas(template, {
      Sid: "AlarmsPublishNotices",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
      Condition: {
        ArnLike: { "aws:SourceArn": alarms },
        StringEquals: {
          "aws:SourceAccount": "123456789012",
          "kms:EncryptionContext:aws:sns:topicArn": arn(
            ":sns:ap-southeast-2:123456789012:lava-example-notices",
          ),
        },
      },
    });
  });

  it("names every alarm of the stack so that the lava-example-* grant covers it", () => {
    const names = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map(
      (a) => a.Properties.AlarmName,
    );
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toMatch(/^lava-example-/);
  });
});

describe("roles that use the realm key through a service", () => {
  it("sends the s3trigger's own failed events to the dead-letter queue, with the key only through SQS, for that queue", () => {
    const role = roleOf(template, "lava-example-s3trigger");
    const queue = logicalId(template, "AWS::SQS::Queue", {
      QueueName: "lava-example-s3trigger-dlq",
    });
    rolePolicyHas(
      role,
      {
        Effect: "Allow",
        Action: "sqs:SendMessage",
        Resource: { "Fn::GetAtt": [queue, "Arn"] },
      },
      keyThrough("sqs", "arn", { "Fn::GetAtt": [queue, "Arn"] }),
    );
  });

  it("lets the state machine use the key only through SNS, for the notices topic", () => {
    const sm = logicalId(template, "AWS::StepFunctions::StateMachine", {
      StateMachineName: "lava-example-jobs",
    });
    const role = template.findResources("AWS::StepFunctions::StateMachine")[sm]?.Properties.RoleArn[
      "Fn::GetAtt"
    ][0];
    const topic = logicalId(template, "AWS::SNS::Topic", { TopicName: "lava-example-notices" });
    rolePolicyHas(role, keyThrough("sns", "topicArn", { Ref: topic }));
  });

  it("conditions every role's use of the realm key with kms:ViaService, in role policies and in the key policy", () => {
    for (const t of [template, agnostic]) {
      const grants = realmKeyGrants(t);
      expect(grants.length).toBeGreaterThan(0);
      for (const { roles, statement } of grants) {
        expect(
          statement.Condition?.StringEquals?.["kms:ViaService"],
          `${JSON.stringify(roles)}: ${JSON.stringify(statement)}`,
        ).toBeDefined();
      }
      for (const statement of keyPolicy(t)) {
        // The account root's kms:* is CDK's default: IAM policies, as above, decide.
        const aws = statement.Principal?.AWS;
        if (aws === undefined || JSON.stringify(aws).includes(":root")) continue;
        expect(
          statement.Condition?.StringEquals?.["kms:ViaService"],
          JSON.stringify(statement),
        ).toBeDefined();
      }
      // Service principals: each bound to the realm's own resources.
      for (const statement of keyPolicy(t).filter((s) => s.Principal?.Service !== undefined)) {
        expect(statement.Condition, JSON.stringify(statement)).toBeDefined();
      }
    }
  });

  it("grants no wildcard KMS action on the realm key to any role", () => {
    for (const { roles, statement } of realmKeyGrants(template)) {
      for (const action of list(statement.Action))
        expect(action, JSON.stringify(roles)).not.toMatch(/\*/);
    }
  });

  it("builds the same grants environment-agnostic, from the deploying account and region", () => {
    const region = (prefix: string) => ({
      "Fn::Join": ["", [prefix, { Ref: "AWS::Region" }, ".amazonaws.com"]],
    });
    agnostic.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Condition: { StringEquals: Match.objectLike({ "kms:ViaService": region("sqs.") }) },
          }),
        ]),
      },
    });
    keyPolicyHas(
      agnostic,
      Match.objectLike({
        Sid: "EventBridgeDeadLetters",
        Condition: {
          StringEquals: {
            "kms:EncryptionContext:aws:sqs:arn": {
              "Fn::Join": [
                "",
                [
                  "arn:",
                  { Ref: "AWS::Partition" },
                  ":sqs:",
                  { Ref: "AWS::Region" },
                  ":",
                  { Ref: "AWS::AccountId" },
                  ":lava-example-s3trigger-dlq",
                ],
              ],
            },
          },
        },
      }),
    );
  });
});
