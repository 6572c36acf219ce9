/**
 * Stack lava-example from realms/example.yaml: what matters about every part,
 * asserted on the synthesized template (one synth shared by the tests).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../lib/app";
import type { RealmStack } from "../../lib/realm-stack";

const repo = new URL("../..", import.meta.url).pathname;
let app: App;
let stack: RealmStack;
let template: Template;

beforeAll(async () => {
  ({ app, stack } = await buildApp(new App({ context: { realm: "example" } }), repo));
  template = Template.fromStack(stack);
}, 120_000);

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: unknown;
  Sid?: string;
};

/** Every statement of every identity policy in the template, with its policy's logical id. */
function identityStatements(): { policy: string; statement: Statement }[] {
  const out: { policy: string; statement: Statement }[] = [];
  for (const [id, policy] of Object.entries(template.findResources("AWS::IAM::Policy"))) {
    for (const statement of (policy.Properties.PolicyDocument.Statement as Statement[]) ?? [])
      out.push({ policy: id, statement });
  }
  return out;
}

const logicalId = (type: string, props: Record<string, unknown>) => {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
  return ids[0] as string;
};

describe("stack lava-example", () => {
  it("is named after the realm", () => {
    expect(stack.stackName).toBe("lava-example");
  });

  it("has a rotating, retained realm key aliased alias/lava-example-sys, decryptable by the runner only through SSM and Secrets Manager", () => {
    template.hasResource("AWS::KMS::Key", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    template.hasResourceProperties("AWS::KMS::Alias", { AliasName: "alias/lava-example-sys" });
    const runnerRole = logicalId("AWS::IAM::Role", {
      Description: Match.stringLikeRegexp("^lava-example-runner"),
    });
    template.hasResourceProperties("AWS::KMS::Key", {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: "kms:Decrypt",
            Principal: { AWS: { "Fn::GetAtt": [runnerRole, "Arn"] } },
            Condition: {
              StringEquals: {
                "kms:ViaService": [
                  "ssm.ap-southeast-2.amazonaws.com",
                  "secretsmanager.ap-southeast-2.amazonaws.com",
                ],
              },
            },
          }),
        ]),
      },
    });
  });

  it("runs the runner on the newest Node runtime in the realm's VPC, trusting the RDS CAs, with the realm's concurrency, memory and timeout", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "lava-example-runner",
      Runtime: "nodejs24.x",
      MemorySize: 1024,
      Timeout: 900,
      ReservedConcurrentExecutions: 4,
      VpcConfig: {
        SubnetIds: ["subnet-0a1b2c3d4e5f60781", "subnet-0a1b2c3d4e5f60782"],
        SecurityGroupIds: ["sg-0a1b2c3d4e5f60783"],
      },
      Environment: {
        Variables: Match.objectLike({ NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem" }),
      },
      TracingConfig: { Mode: "Active" },
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "lava-example-s3trigger",
      Runtime: "nodejs24.x",
      VpcConfig: Match.absent(),
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", {
      LogGroupName: "/aws/lambda/lava-example-runner",
      RetentionInDays: 30,
    });
  });

  it("lets the runner assume exactly the roles of the realm's aws connections, and no other", () => {
    const assume = identityStatements().filter(({ statement }) =>
      ([] as string[]).concat(statement.Action).includes("sts:AssumeRole"),
    );
    expect(assume.length).toBeGreaterThan(0);
    for (const { statement } of assume)
      expect(statement).toMatchObject({
        Sid: "AssumeConnectionRoles",
        Effect: "Allow",
        Resource: "arn:aws:iam::210987654321:role/partner-read",
      });
  });

  it("grants the runner exactly the realm's parameters, secrets, database users and S3 prefixes", () => {
    const arn = (rest: string) => ({ "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, rest]] });
    const runnerPolicy = identityStatements()
      .filter((s) => s.statement.Sid !== undefined)
      .map((s) => s.statement);
    expect(runnerPolicy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: "RealmParameters",
          Action: ["ssm:GetParameter", "ssm:GetParameters"],
          Resource: arn(":ssm:ap-southeast-2:123456789012:parameter/lava/example/*"),
        }),
        expect.objectContaining({
          Sid: "RealmSecrets",
          Action: "secretsmanager:GetSecretValue",
          Resource: [
            arn(":secretsmanager:ap-southeast-2:123456789012:secret:/lava/example/*"),
            "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:rds!cluster-1a2b3c4d-AbCdEf",
          ],
        }),
        expect.objectContaining({
          Sid: "DatabaseUsers",
          Action: "rds-db:connect",
          Resource: arn(
            ":rds-db:ap-southeast-2:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0/loader",
          ),
        }),
        expect.objectContaining({
          Sid: "ReadSources",
          Action: ["s3:GetObject", "s3:GetObjectVersion"],
          Resource: [arn(":s3:::example-landing/sales/*"), arn(":s3:::example-partner-drop/*")],
        }),
        expect.objectContaining({
          Sid: "ListSources0",
          Action: "s3:ListBucket",
          Resource: arn(":s3:::example-landing"),
          Condition: { StringLike: { "s3:prefix": ["sales/*"] } },
        }),
        expect.objectContaining({
          Sid: "DecryptSources",
          Action: "kms:Decrypt",
          Resource:
            "arn:aws:kms:ap-southeast-2:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        }),
        expect.objectContaining({
          Sid: "UseTemp",
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
          Resource: arn(":s3:::example-lava-temp/example/*"),
        }),
      ]),
    );
  });

  it("has no * resource for ssm, kms, secretsmanager, rds-db, rds, iam or s3 actions in any identity policy", () => {
    const scoped = /^(ssm|kms|secretsmanager|rds-db|rds|iam|s3|states):/;
    for (const { policy, statement } of identityStatements()) {
      const actions = ([] as string[]).concat(statement.Action);
      const resources = ([] as unknown[]).concat(statement.Resource);
      if (actions.some((a) => scoped.test(a)))
        expect(resources, `${policy}: ${actions.join(", ")}`).not.toContain("*");
    }
  });

  it("lets only the s3trigger, the schedules and the state machine itself (a pipeline's children) start executions, of the realm's state machine only", () => {
    const sm = logicalId("AWS::StepFunctions::StateMachine", {
      StateMachineName: "lava-example-jobs",
    });
    const starts = identityStatements().filter(({ statement }) =>
      ([] as string[]).concat(statement.Action).includes("states:StartExecution"),
    );
    expect(starts.map((s) => s.policy).sort()).toEqual([
      // The Distributed Maps (a large foreach, a fan-out load) start their map runs' executions.
      expect.stringMatching(/^JobsStateMachineDistributedMapPolicy/),
      expect.stringMatching(/^JobsStateMachineRoleDefaultPolicy/),
      expect.stringMatching(/^S3Trigger/),
      expect.stringMatching(/^SchedulesRole/),
    ]);
    const resources = starts.map((s) => JSON.stringify(s.statement.Resource));
    expect(resources).toContain(JSON.stringify({ Ref: sm }));
    for (const r of resources.filter((x) => x !== JSON.stringify({ Ref: sm })))
      expect(r).toMatch(/:states:ap-southeast-2:123456789012:stateMachine:lava-example-jobs"/);
  });

  it("runs jobs in a STANDARD state machine lava-example-jobs logging every event but no execution data, found through SSM", () => {
    const sm = logicalId("AWS::StepFunctions::StateMachine", {
      StateMachineName: "lava-example-jobs",
      StateMachineType: "STANDARD",
      LoggingConfiguration: Match.objectLike({ Level: "ALL", IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
    template.hasResourceProperties("AWS::SSM::Parameter", {
      Name: "/lava/example/state-machine-arn",
      Type: "String",
      Value: { Ref: sm },
    });
  });

  it("builds the fan-out states for the realm's fan-out load: plan, two Distributed Maps over the items (state or s3_temp), publish", () => {
    const [sm] = Object.values(template.findResources("AWS::StepFunctions::StateMachine"));
    const body = JSON.stringify(sm?.Properties.DefinitionString);
    for (const state of [
      "Plan load",
      "Fan out?",
      "Items in S3?",
      "Load items",
      "Load listed items",
      "Publish load",
    ])
      expect(body).toContain(`\\"${state}\\":`);
    expect(body).toContain("ToleratedFailureCountPath");
  });

  it("validates dispatches in lava-example-resolve, outside the VPC, before the runner runs", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "lava-example-resolve",
      Runtime: "nodejs24.x",
      VpcConfig: Match.absent(),
    });
    const sm = logicalId("AWS::StepFunctions::StateMachine", {
      StateMachineName: "lava-example-jobs",
    });
    const smRole = template.findResources("AWS::StepFunctions::StateMachine")[sm]?.Properties
      .RoleArn["Fn::GetAtt"][0];
    const invokes = identityStatements()
      .filter(({ statement }) =>
        ([] as string[]).concat(statement.Action).includes("lambda:InvokeFunction"),
      )
      .flatMap(({ statement }) => ([] as unknown[]).concat(statement.Resource))
      .map((r) => JSON.stringify(r));
    const fnId = (name: string) => logicalId("AWS::Lambda::Function", { FunctionName: name });
    for (const name of ["lava-example-resolve", "lava-example-runner"]) {
      expect(invokes).toContain(JSON.stringify({ "Fn::GetAtt": [fnId(name), "Arn"] }));
    }
    expect(invokes.join()).not.toContain(fnId("lava-example-s3trigger"));
    const publishes = identityStatements().filter(({ statement }) =>
      ([] as string[]).concat(statement.Action).includes("sns:Publish"),
    );
    // The state machine publishes its notices; the runner only to the topics the realm's actions name.
    expect(publishes.map((p) => p.policy).sort()).toEqual([
      expect.stringContaining(smRole.replace(/[0-9A-F]{8}$/, "")),
      expect.stringMatching(/^RunnerRole/),
    ]);
    const runner = publishes.find((p) => p.policy.startsWith("RunnerRole"));
    expect(runner?.statement.Resource).toBe("arn:aws:sns:ap-southeast-2:123456789012:data-eng");
  });

  it("routes Object Created events of the source buckets and prefixes to the s3trigger, with a dead-letter queue for both delivery and function failures", () => {
    const queue = logicalId("AWS::SQS::Queue", { QueueName: "lava-example-s3trigger-dlq" });
    template.hasResourceProperties("AWS::Events::Rule", {
      Name: "lava.example.s3",
      EventPattern: {
        source: ["aws.s3"],
        "detail-type": ["Object Created"],
        detail: {
          $or: [
            { bucket: { name: ["example-landing"] }, object: { key: [{ prefix: "sales/" }] } },
            { bucket: { name: ["example-partner-drop"] } },
          ],
        },
      },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { "Fn::GetAtt": [queue, "Arn"] } },
          RetryPolicy: Match.anyValue(),
        }),
      ],
    });
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [queue, "Arn"] } } },
    });
  });

  it("sends notices on lava-example-notices, encrypted with the realm key, for dead letters and failed executions", () => {
    const topic = logicalId("AWS::SNS::Topic", {
      TopicName: "lava-example-notices",
      KmsMasterKeyId: Match.anyValue(),
    });
    for (const name of ["lava-example-s3trigger-dead-letters", "lava-example-jobs-failed"]) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        AlarmName: name,
        AlarmActions: [{ Ref: topic }],
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      });
    }
  });

  it("creates the VPC endpoints and the Aurora S3-import role associated with s3_import clusters", () => {
    for (const service of ["ssm", "secretsmanager", "kms", "sts", "states"]) {
      template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
        ServiceName: `com.amazonaws.ap-southeast-2.${service}`,
        PrivateDnsEnabled: true,
        VpcEndpointType: "Interface",
      });
    }
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
      VpcEndpointType: "Gateway",
      RouteTableIds: ["rtb-0a1b2c3d4e5f60784", "rtb-0a1b2c3d4e5f60785"],
    });
    const role = logicalId("AWS::IAM::Role", { RoleName: "lava-example-aurora-s3-import" });
    template.hasResourceProperties("Custom::AWS", {
      Create: Match.objectLike({
        "Fn::Join": Match.arrayWith([
          Match.arrayWith([Match.stringLikeRegexp("addRoleToDBCluster")]),
        ]),
      }),
    });
    expect(JSON.stringify(template.findResources("Custom::AWS"))).toContain(role);
  });

  it("synthesizes with cdk-nag AwsSolutions checks active and finds nothing", () => {
    expect(() => app.synth()).not.toThrow();
  });

  it("fails synth when cdk-nag finds something (the checks are really wired in)", async () => {
    const other = await buildApp(new App({ context: { realm: "example" } }), repo);
    new s3.Bucket(other.stack, "UnloggedBucket");
    expect(() => other.app.synth()).toThrow(/AwsSolutions-S1/);
  }, 120_000);
});

describe("synth of a bad realm", () => {
  it("fails without a realm, for a missing file, with the validator's messages, and for a different realm name", async () => {
    await expect(buildApp(new App(), repo)).rejects.toThrow("give the realm with -c realm=<name>");
    await expect(buildApp(new App({ context: { realm: "nosuch" } }), repo)).rejects.toThrow(
      "realms/nosuch.yaml: cannot read the realm file: no such file",
    );
    const cwd = await mkdtemp(join(tmpdir(), "lava-synth-"));
    try {
      await mkdir(join(cwd, "realms"));
      await writeFile(
        join(cwd, "realms", "bad.yaml"),
        "realm: bad\nconnections:\n  - {conn_id: pg, type: postgres, enabled: true, port: seventy}\n",
      );
      const previous = process.cwd();
      process.chdir(cwd);
      try {
        await expect(buildApp(new App({ context: { realm: "bad" } }), cwd)).rejects.toThrow(
          'realms/bad.yaml: connection pg: port: expected an integer 1-65535, got "seventy"',
        );
      } finally {
        process.chdir(previous);
      }
      await writeFile(join(cwd, "realms", "other.yaml"), "realm: bad\n");
      await expect(buildApp(new App({ context: { realm: "other" } }), cwd)).rejects.toThrow(
        'realm: expected "other"',
      );
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
