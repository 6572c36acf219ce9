import { App, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as s3 from "aws-cdk-lib/aws-s3";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import {
  RealmVpcEndpoints,
  type RealmVpcEndpointsProps,
  realmVpc,
} from "../../lib/constructs/vpc-endpoints";

const ENV = { account: "123456789012", region: "ap-southeast-2" };
const network: RealmVpcEndpointsProps = {
  vpcId: "vpc-0a1b2c3d4e5f60789",
  subnetIds: ["subnet-0a1b2c3d4e5f60781", "subnet-0a1b2c3d4e5f60782"],
  securityGroupIds: ["sg-0a1b2c3d4e5f60783", "sg-0a1b2c3d4e5f60786"],
  routeTableIds: ["rtb-0a1b2c3d4e5f60784", "rtb-0a1b2c3d4e5f60785"],
};
const SERVICES = ["ssm", "secretsmanager", "kms", "sts", "states"];

function stackFor(stackProps: StackProps) {
  const app = new App();
  return { app, stack: new Stack(app, "Realm", stackProps) };
}

/** `com.amazonaws.${AWS::Region}.<service>` as CDK renders it in an environment-agnostic stack. */
const regionalName = (service: string) => ({
  "Fn::Join": ["", ["com.amazonaws.", { Ref: "AWS::Region" }, `.${service}`]],
});

describe("RealmVpcEndpoints", () => {
  it("creates interface endpoints with private DNS for SSM, Secrets Manager, KMS, STS and Step Functions in the realm's subnets and security groups", () => {
    for (const [stackProps, serviceName] of [
      [{ env: ENV }, (s: string) => `com.amazonaws.ap-southeast-2.${s}`],
      [{}, regionalName],
    ] as const) {
      // Prepare
      const { stack } = stackFor(stackProps);
      // Act
      new RealmVpcEndpoints(stack, "Endpoints", network);
      // Assess
      const template = Template.fromStack(stack);
      for (const service of SERVICES) {
        template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
          ServiceName: serviceName(service),
          VpcEndpointType: "Interface",
          VpcId: "vpc-0a1b2c3d4e5f60789",
          PrivateDnsEnabled: true,
          SubnetIds: ["subnet-0a1b2c3d4e5f60781", "subnet-0a1b2c3d4e5f60782"],
          SecurityGroupIds: ["sg-0a1b2c3d4e5f60783", "sg-0a1b2c3d4e5f60786"],
        });
      }
      const interfaces = template.findResources("AWS::EC2::VPCEndpoint", {
        Properties: { VpcEndpointType: "Interface" },
      });
      expect(Object.keys(interfaces)).toHaveLength(SERVICES.length);
    }
  });

  it("creates an S3 gateway endpoint on the given route tables", () => {
    // Prepare
    const { stack } = stackFor({ env: ENV });
    // Act
    new RealmVpcEndpoints(stack, "Endpoints", network);
    // Assess
    const gateways = Template.fromStack(stack).findResources("AWS::EC2::VPCEndpoint", {
      Properties: { VpcEndpointType: "Gateway" },
    });
    expect(Object.values(gateways).map((r) => r.Properties)).toEqual([
      {
        ServiceName: regionalName("s3"),
        VpcEndpointType: "Gateway",
        VpcId: "vpc-0a1b2c3d4e5f60789",
        RouteTableIds: ["rtb-0a1b2c3d4e5f60784", "rtb-0a1b2c3d4e5f60785"],
      },
    ]);
  });

  it("creates no S3 gateway endpoint without route tables (the VPC already routes to S3)", () => {
    // Prepare
    const { stack } = stackFor({ env: ENV });
    // Act
    const endpoints = new RealmVpcEndpoints(stack, "Endpoints", {
      ...network,
      routeTableIds: undefined,
    });
    // Assess
    expect(endpoints.s3Gateway).toBeUndefined();
    const template = Template.fromStack(stack);
    expect(
      template.findResources("AWS::EC2::VPCEndpoint", {
        Properties: { VpcEndpointType: "Gateway" },
      }),
    ).toEqual({});
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
      ServiceName: "com.amazonaws.ap-southeast-2.ssm",
    });
  });

  it("neither creates nor changes security groups (the realm owns them), and needs no lookups", () => {
    // Prepare
    const { app, stack } = stackFor({ env: ENV });
    // Act
    new RealmVpcEndpoints(stack, "Endpoints", network);
    // Assess
    const template = Template.fromStack(stack);
    expect(template.findResources("AWS::EC2::SecurityGroup")).toEqual({});
    expect(template.findResources("AWS::EC2::SecurityGroupIngress")).toEqual({});
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });

  it("refuses ids that are not ids, with a message showing them", () => {
    const { stack } = stackFor({ env: ENV });
    const bad = (id: string, change: Partial<RealmVpcEndpointsProps>) => () =>
      new RealmVpcEndpoints(stack, id, { ...network, ...change });
    expect(bad("A", { vpcId: "my-vpc" })).toThrow(
      'RealmVpcEndpoints: vpcId must be a VPC id like vpc-0abc, got "my-vpc"',
    );
    expect(bad("B", { subnetIds: [] })).toThrow(
      "RealmVpcEndpoints: subnetIds must list at least 1 id, got []",
    );
    expect(bad("C", { securityGroupIds: ["sg-0abc", "default"] })).toThrow(
      'RealmVpcEndpoints: securityGroupIds must be ids like sg-0abc, got ["default"]',
    );
    expect(bad("D", { routeTableIds: ["rtb-0abc", "rtb-0abc"] })).toThrow(
      'RealmVpcEndpoints: routeTableIds lists an id twice, got ["rtb-0abc","rtb-0abc"]',
    );
  });
});

describe("realmVpc", () => {
  it("places a function in exactly the realm's subnets and security groups, offline", () => {
    for (const stackProps of [{ env: ENV }, {}]) {
      // Prepare
      const { app, stack } = stackFor(stackProps);
      const { vpc, subnets, securityGroups } = realmVpc(stack, "RealmVpc", network);
      // Act
      new lambda.Function(stack, "Fn", {
        runtime: lambda.Runtime.NODEJS_24_X,
        handler: "index.handler",
        code: lambda.Code.fromInline("exports.handler = async () => 1;"),
        vpc,
        vpcSubnets: subnets,
        securityGroups,
      });
      // Assess
      const template = Template.fromStack(stack);
      template.hasResourceProperties("AWS::Lambda::Function", {
        VpcConfig: {
          SubnetIds: ["subnet-0a1b2c3d4e5f60781", "subnet-0a1b2c3d4e5f60782"],
          SecurityGroupIds: ["sg-0a1b2c3d4e5f60783", "sg-0a1b2c3d4e5f60786"],
        },
      });
      // The placeholder AZs never reach the template; nothing was created or looked up.
      expect(JSON.stringify(template.toJSON())).not.toContain("Fn::GetAZs");
      expect(template.findResources("AWS::EC2::SecurityGroup")).toEqual({});
      expect(app.synth().manifest.missing ?? []).toEqual([]);
    }
  });

  it("imports the security groups immutable, so connection rules cannot edit them", () => {
    // Prepare
    const { stack } = stackFor({ env: ENV });
    const { securityGroups } = realmVpc(stack, "RealmVpc", network);
    // Act
    for (const sg of securityGroups) sg.connections.allowFromAnyIpv4(ec2.Port.tcp(443));
    // Assess
    expect(Template.fromStack(stack).findResources("AWS::EC2::SecurityGroupIngress")).toEqual({});
  });

  it("refuses an empty security group list", () => {
    const { stack } = stackFor({ env: ENV });
    expect(() => realmVpc(stack, "RealmVpc", { ...network, securityGroupIds: [] })).toThrow(
      "realmVpc: securityGroupIds must list at least 1 id, got []",
    );
  });
});

describe("RealmVpcEndpoints under cdk-nag AwsSolutions", () => {
  function nagApp(stackProps: StackProps) {
    const { app, stack } = stackFor(stackProps);
    new RealmVpcEndpoints(stack, "Endpoints", network);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    return { app, stack };
  }

  it("synthesizes with no finding, with and without an environment", () => {
    for (const stackProps of [{ env: ENV }, {}]) {
      const { app } = nagApp(stackProps);
      expect(() => app.synth()).not.toThrow();
    }
  });

  it("fails synth on a finding (the plugin is active)", () => {
    const { app, stack } = nagApp({ env: ENV });
    new s3.Bucket(stack, "UnloggedBucket");
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
