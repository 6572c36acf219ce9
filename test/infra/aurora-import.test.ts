import { App, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { AuroraS3Import, type AuroraS3ImportProps } from "../../lib/constructs/aurora-import";

const ENV = { account: "123456789012", region: "ap-southeast-2" };
const KEY_A = "arn:aws:kms:ap-southeast-2:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
const KEY_B = "arn:aws:kms:us-east-1:210987654321:key/mrk-0123456789abcdef0123456789abcdef";

const realmProps: AuroraS3ImportProps = {
  realmName: "example",
  sources: [
    { bucket: "example-landing", prefix: "sales/" },
    { bucket: "example-partner-drop", kmsKeyArn: KEY_A },
    { bucket: "example-landing", prefix: "returns/" },
    { bucket: "partner-other-account", prefix: "drop", kmsKeyArn: KEY_B },
  ],
  temp: { bucket: "example-lava-temp", prefix: "example" },
  clusters: [
    { clusterIdentifier: "example-aurora", s3Import: true },
    { clusterIdentifier: "reporting", s3Import: false },
  ],
};

function build(props: AuroraS3ImportProps = realmProps, stackProps: StackProps = { env: ENV }) {
  const app = new App();
  const stack = new Stack(app, "Realm", stackProps);
  const s3Import = new AuroraS3Import(stack, "S3Import", props);
  const template = Template.fromStack(stack);
  const roleId = stack.getLogicalId(s3Import.role.node.defaultChild as iam.CfnRole);
  return { app, stack, s3Import, template, roleId };
}

/** `arn:${Partition}:<rest>` as CDK renders it. */
const partitionArn = (rest: string) => ({
  "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, rest]],
});

/** The cluster example-aurora's ARN in an environment-agnostic stack: the deploying region and account. */
const AGNOSTIC_CLUSTER_ARN = {
  "Fn::Join": [
    "",
    [
      "arn:",
      { Ref: "AWS::Partition" },
      ":rds:",
      { Ref: "AWS::Region" },
      ":",
      { Ref: "AWS::AccountId" },
      ":cluster:example-aurora",
    ],
  ],
};

/**
 * Rewrite every `Fn::Join` with "" into one string, intrinsics shown as Fn::Sub does
 * (`${Logical.Attr}`, `${AWS::Region}`), so `Match.serializedJson` can read the
 * custom resource's JSON calls, which embed the role ARN.
 */
function flattenJoins(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flattenJoins);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  const join = obj["Fn::Join"] as [string, unknown[]] | undefined;
  if (join && join[0] === "") {
    return join[1]
      .map((part) => {
        if (typeof part === "string") return part;
        const p = part as Record<string, unknown>;
        if (typeof p.Ref === "string") return `\${${p.Ref}}`;
        const getAtt = p["Fn::GetAtt"] as [string, string] | undefined;
        if (getAtt) return `\${${getAtt[0]}.${getAtt[1]}}`;
        throw new Error(`cannot flatten ${JSON.stringify(part)}`);
      })
      .join("");
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, flattenJoins(v)]));
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of every identity policy in the template (roles' inline ones too). */
function allStatements(template: Template): Statement[] {
  const docs: { Statement: Statement[] }[] = [];
  for (const r of Object.values(template.findResources("AWS::IAM::Policy"))) {
    docs.push(r.Properties.PolicyDocument);
  }
  for (const r of Object.values(template.findResources("AWS::IAM::ManagedPolicy"))) {
    docs.push(r.Properties.PolicyDocument);
  }
  for (const r of Object.values(template.findResources("AWS::IAM::Role"))) {
    for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
  }
  return docs.flatMap((d) => d.Statement);
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe("AuroraS3Import", () => {
  it("creates role lava-<realm>-aurora-s3-import that only rds.amazonaws.com, for the realm's importing clusters in this account, may assume", () => {
    // Act
    const { template } = build();
    // Assess: aws:SourceArn names each importing cluster (confused deputy); `reporting` does not import
    template.hasResourceProperties("AWS::IAM::Role", {
      RoleName: "lava-example-aurora-s3-import",
      AssumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "sts:AssumeRole",
            Principal: { Service: "rds.amazonaws.com" },
            Condition: Match.exact({
              StringEquals: { "aws:SourceAccount": "123456789012" },
              ArnEquals: {
                "aws:SourceArn": [
                  partitionArn(":rds:ap-southeast-2:123456789012:cluster:example-aurora"),
                ],
              },
            }),
          },
        ],
      },
    });
  });

  it("conditions the trust on the deploying account and region when the stack is environment-agnostic", () => {
    // Act
    const { template } = build(realmProps, {});
    // Assess
    template.hasResourceProperties("AWS::IAM::Role", {
      RoleName: "lava-example-aurora-s3-import",
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: "rds.amazonaws.com" },
            Condition: Match.exact({
              StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
              ArnEquals: {
                "aws:SourceArn": [AGNOSTIC_CLUSTER_ARN],
              },
            }),
          }),
        ],
      },
    });
  });

  it("trusts every importing cluster, and names clusters in lower case in ARNs, as RDS stores their identifiers", () => {
    // Act
    const { template } = build({
      ...realmProps,
      clusters: [
        { clusterIdentifier: "Example-Aurora", s3Import: true },
        { clusterIdentifier: "second", s3Import: true },
        { clusterIdentifier: "reporting", s3Import: false },
      ],
    });
    // Assess: the trust, and the association's own permission
    const cluster = (id: string) => partitionArn(`:rds:ap-southeast-2:123456789012:cluster:${id}`);
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: Match.objectLike({
              ArnEquals: { "aws:SourceArn": [cluster("example-aurora"), cluster("second")] },
            }),
          }),
        ],
      },
    });
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ["rds:AddRoleToDBCluster", "rds:RemoveRoleFromDBCluster"],
            Resource: cluster("example-aurora"),
          }),
        ]),
      },
    });
  });

  it("lets the role read exactly the source prefixes and s3_temp, list by prefix, and decrypt with the given keys", () => {
    // Act
    const { template, roleId } = build();
    // Assess: the whole policy, statement by statement
    template.hasResourceProperties("AWS::IAM::Policy", {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: partitionArn(":s3:::example-landing"),
            Condition: { StringLike: { "s3:prefix": ["sales/*", "returns/*"] } },
          },
          {
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: partitionArn(":s3:::example-partner-drop"),
          },
          {
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: partitionArn(":s3:::partner-other-account"),
            Condition: { StringLike: { "s3:prefix": ["drop*"] } },
          },
          {
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: partitionArn(":s3:::example-lava-temp"),
            Condition: { StringLike: { "s3:prefix": ["example/*"] } },
          },
          {
            Effect: "Allow",
            Action: "s3:GetObject",
            Resource: [
              partitionArn(":s3:::example-landing/sales/*"),
              partitionArn(":s3:::example-landing/returns/*"),
              partitionArn(":s3:::example-partner-drop/*"),
              partitionArn(":s3:::partner-other-account/drop*"),
              partitionArn(":s3:::example-lava-temp/example/*"),
            ],
          },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: KEY_A },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: KEY_B },
        ],
      },
    });
  });

  it("reads s3_temp under <prefix>/ whether or not the prefix ends in a slash, and the whole bucket for an empty prefix", () => {
    // Act
    const slash = build({ ...realmProps, sources: [], temp: { bucket: "tmp-b", prefix: "t/x/" } });
    const whole = build({ ...realmProps, sources: [], temp: { bucket: "tmp-b", prefix: "" } });
    // Assess
    slash.template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: [
          {
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: partitionArn(":s3:::tmp-b"),
            Condition: { StringLike: { "s3:prefix": ["t/x/*"] } },
          },
          { Effect: "Allow", Action: "s3:GetObject", Resource: partitionArn(":s3:::tmp-b/t/x/*") },
        ],
      },
    });
    whole.template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: [
          { Effect: "Allow", Action: "s3:ListBucket", Resource: partitionArn(":s3:::tmp-b") },
          { Effect: "Allow", Action: "s3:GetObject", Resource: partitionArn(":s3:::tmp-b/*") },
        ],
      },
    });
  });

  it("grants no KMS permission at all when no source names a key", () => {
    // Act
    const { template } = build({
      ...realmProps,
      sources: [{ bucket: "example-landing", prefix: "sales/" }],
    });
    // Assess
    const kmsStatements = allStatements(template).filter((s) =>
      list(s.Action).some((a) => a.startsWith("kms:")),
    );
    expect(kmsStatements).toEqual([]);
  });

  it("never uses a * resource for s3, kms, rds or iam actions, in any policy of the template", () => {
    for (const stackProps of [{ env: ENV }, {}]) {
      // Act
      const { template } = build(realmProps, stackProps);
      // Assess
      const statements = allStatements(template);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) {
        const guarded = list(s.Action).some((a) => /^(s3|kms|rds|iam):/.test(a));
        if (guarded) expect(list(s.Resource), JSON.stringify(s)).not.toContain("*");
      }
    }
  });

  it("associates the role with each s3_import cluster for feature s3Import, and removes it on delete", () => {
    // Act
    const { template, roleId } = build();
    // Assess
    const flat = Template.fromJSON(flattenJoins(template.toJSON()) as Record<string, unknown>);
    const parameters = {
      DBClusterIdentifier: "example-aurora",
      RoleArn: `\${${roleId}.Arn}`,
      FeatureName: "s3Import",
    };
    const add = Match.serializedJson({
      service: "RDS",
      action: "addRoleToDBCluster",
      parameters,
      physicalResourceId: { id: "example-aurora/s3Import" },
      ignoreErrorCodesMatching: "^DBClusterRoleAlreadyExists(Fault)?$",
    });
    flat.hasResourceProperties("Custom::AWS", {
      Create: add,
      Update: add,
      Delete: Match.serializedJson({
        service: "RDS",
        action: "removeRoleFromDBCluster",
        parameters,
        physicalResourceId: { id: "example-aurora/s3Import" },
        ignoreErrorCodesMatching: "^(DBClusterRoleNotFound|DBClusterNotFound)(Fault)?$",
      }),
      InstallLatestAwsSdk: false,
    });
    // Only the importing cluster: `reporting` has s3Import false.
    const clusters = Object.values(flat.findResources("Custom::AWS")).map(
      (r) => JSON.parse(r.Properties.Create).parameters.DBClusterIdentifier,
    );
    expect(clusters).toEqual(["example-aurora"]);
  });

  it("ignores exactly the errors that mean the association is already in the wanted state", () => {
    // Prepare
    const { template } = build();
    const flat = flattenJoins(template.toJSON()) as {
      Resources: Record<string, { Type: string; Properties: Record<string, string> }>;
    };
    const cr = Object.values(flat.Resources).find((r) => r.Type === "Custom::AWS");
    const onCreate = new RegExp(JSON.parse(cr?.Properties.Create ?? "{}").ignoreErrorCodesMatching);
    const onDelete = new RegExp(JSON.parse(cr?.Properties.Delete ?? "{}").ignoreErrorCodesMatching);
    // Assess: SDK v3 exception names, and the bare API error codes
    for (const name of ["DBClusterRoleAlreadyExistsFault", "DBClusterRoleAlreadyExists"]) {
      expect(onCreate.test(name), name).toBe(true);
    }
    for (const name of [
      "DBClusterNotFoundFault",
      "DBClusterRoleQuotaExceededFault",
      "InvalidDBClusterStateFault",
    ]) {
      expect(onCreate.test(name), name).toBe(false);
    }
    for (const name of [
      "DBClusterRoleNotFoundFault",
      "DBClusterRoleNotFound",
      "DBClusterNotFoundFault",
    ]) {
      expect(onDelete.test(name), name).toBe(true);
    }
    expect(onDelete.test("InvalidDBClusterStateFault")).toBe(false);
  });

  it("lets the association call RDS only on the cluster's ARN and pass only the import role, to RDS", () => {
    for (const [stackProps, clusterArn] of [
      [{ env: ENV }, partitionArn(":rds:ap-southeast-2:123456789012:cluster:example-aurora")],
      [{}, AGNOSTIC_CLUSTER_ARN],
    ] as const) {
      // Act
      const { template, roleId } = build(realmProps, stackProps);
      // Assess
      const policies = template.findResources("AWS::IAM::Policy", {
        Properties: {
          PolicyDocument: {
            Statement: [
              {
                Effect: "Allow",
                Action: ["rds:AddRoleToDBCluster", "rds:RemoveRoleFromDBCluster"],
                Resource: clusterArn,
              },
              {
                Effect: "Allow",
                Action: "iam:PassRole",
                Resource: { "Fn::GetAtt": [roleId, "Arn"] },
                Condition: { StringEquals: { "iam:PassedToService": "rds.amazonaws.com" } },
              },
            ],
          },
        },
      });
      const policyIds = Object.keys(policies);
      expect(policyIds).toHaveLength(1);
      // The call runs only once its permissions exist.
      template.hasResource("Custom::AWS", { DependsOn: Match.arrayWith(policyIds) });
    }
  });

  it("runs the association on the newest Node runtime without installing an SDK at deploy time", () => {
    // Act
    const { template } = build();
    // Assess
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Handler: "index.handler",
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp("^S3ImportAssociationLogs") } },
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  it("refuses props where no cluster imports from S3: the role would trust no cluster", () => {
    // Prepare
    const stack = new Stack(new App(), "NoImport", { env: ENV });
    // Act / Assess
    expect(
      () =>
        new AuroraS3Import(stack, "S3Import", {
          ...realmProps,
          clusters: [{ clusterIdentifier: "reporting", s3Import: false }],
        }),
    ).toThrow(
      'AuroraS3Import: at least one cluster must have s3Import (the role trusts RDS only for those), got [{"clusterIdentifier":"reporting","s3Import":false}]',
    );
  });

  it("refuses bad props with a message showing the value", () => {
    const app = new App();
    const stack = new Stack(app, "Bad", { env: ENV });
    const bad = (id: string, change: Partial<AuroraS3ImportProps>) => () =>
      new AuroraS3Import(stack, id, { ...realmProps, ...change });
    expect(bad("A", { realmName: "Bad_Name" })).toThrow(
      'AuroraS3Import: realmName must be lower-case letters, digits and - (at most 40 characters), got "Bad_Name"',
    );
    expect(bad("B", { sources: [{ bucket: "b-ok", prefix: "in/*.csv" }] })).toThrow(
      'prefix of bucket b-ok must not contain * or ?, got "in/*.csv"',
    );
    expect(bad("C", { sources: [{ bucket: "Not_A_Bucket" }] })).toThrow(
      'expected an S3 bucket name, got "Not_A_Bucket"',
    );
    expect(bad("D", { sources: [{ bucket: "b-ok", kmsKeyArn: "alias/mine" }] })).toThrow(
      'kmsKeyArn of bucket b-ok must be a KMS key ARN, got "alias/mine"',
    );
    const twice = { clusterIdentifier: "example-aurora", s3Import: true };
    expect(bad("E", { clusters: [twice, twice] })).toThrow(
      'duplicate cluster, got "example-aurora"',
    );
    expect(bad("F", { clusters: [{ clusterIdentifier: "no--way", s3Import: true }] })).toThrow(
      'expected a DB cluster identifier, got "no--way"',
    );
  });
});

describe("AuroraS3Import under cdk-nag AwsSolutions", () => {
  function nagApp(stackProps: StackProps) {
    const app = new App();
    const stack = new Stack(app, "Realm", stackProps);
    const s3Import = new AuroraS3Import(stack, "S3Import", realmProps);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    return { app, stack, s3Import };
  }

  it("synthesizes with no unacknowledged finding, with and without an environment", () => {
    for (const stackProps of [{ env: ENV }, {}]) {
      const { app } = nagApp(stackProps);
      expect(() => app.synth()).not.toThrow();
    }
  });

  it("fails synth on a finding it did not acknowledge (the plugin is active)", () => {
    const { app, stack } = nagApp({ env: ENV });
    new s3.Bucket(stack, "UnloggedBucket");
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it("acknowledges only its own prefix wildcards: another wildcard on the role still fails", () => {
    const { app, s3Import } = nagApp({ env: ENV });
    s3Import.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["s3:GetObject"],
        resources: ["arn:aws:s3:::elsewhere/*"],
      }),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::arn:aws:s3:::elsewhere\/\*\]/);
  });
});
