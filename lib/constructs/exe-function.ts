/**
 * `lava-<realm>-exe` (opt-in with `exe.enabled`): a container-image function
 * running the same runner code as lava-<realm>-runner, with psql and archive
 * tools for exe and pkg payloads. The image is built at deploy time (Docker
 * needed then); `cdk synth` only stages the build context.
 */

import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { acknowledge } from "../nag";
import type { RealmFunctionVpc } from "./realm-function";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

export interface ExeFunctionProps {
  readonly realmName: string;
  /** `encodeRealmBundle(...)` of the validated realm (a Docker build argument). */
  readonly realmBundle: string;
  /** @default 1024 */
  readonly memoryMb?: number;
  /** @default Duration.minutes(15) */
  readonly timeout?: Duration;
  /** @default - not in a VPC */
  readonly vpc?: RealmFunctionVpc;
}

export class ExeFunction extends Construct {
  readonly fn: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: ExeFunctionProps) {
    super(scope, id);
    const functionName = `lava-${props.realmName}-exe`;
    const logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${functionName}: its own log group and what the realm grants`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.fn = new lambda.DockerImageFunction(this, "Function", {
      functionName,
      description: `lava-aurora realm ${props.realmName}: runs exe and pkg jobs`,
      code: lambda.DockerImageCode.fromImageAsset(REPO, {
        file: "lambda/exe.Dockerfile",
        buildArgs: { LAVA_REALM: props.realmBundle },
        exclude: ["node_modules", "cdk.out", "dist", "dist-exe", ".git", "coverage"],
      }),
      role,
      // x86_64: the image builds on any deploying machine without cross-building.
      architecture: lambda.Architecture.X86_64,
      memorySize: props.memoryMb ?? 1024,
      timeout: props.timeout ?? Duration.minutes(15),
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME: functionName,
        NODE_OPTIONS: "--enable-source-maps",
        ...(props.vpc ? { NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem" } : {}),
      },
      ...(props.vpc
        ? {
            vpc: props.vpc.vpc,
            vpcSubnets: props.vpc.subnets,
            securityGroups: props.vpc.securityGroups,
          }
        : {}),
    });
    acknowledge(
      role,
      "AwsSolutions-IAM5[Resource::*]",
      "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions",
    );
  }
}
