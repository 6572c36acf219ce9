/**
 * A realm's Lambda function: newest Node.js runtime, bundled locally by
 * esbuild (no Docker at synth), the validated realm inside the bundle, its
 * own log group with a retention.
 */

import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { acknowledge } from "../nag";
import { REPO } from "../paths";
import type { RealmVpc } from "./vpc-endpoints";

export interface RealmFunctionProps {
  /** The realm's name; the function is `lava-<realm>-<name>`. */
  readonly realmName: string;
  /** Handler file under `lambda/handlers/` (without `.ts`). */
  readonly name: string;
  /** `encodeRealmBundle(...)` of the validated realm. */
  readonly realmBundle: string;
  readonly description: string;
  /** @default 256 */
  readonly memoryMb?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default - unreserved */
  readonly reservedConcurrency?: number;
  /** Database-facing functions run in the realm's VPC and trust the RDS CAs. @default - not in a VPC */
  readonly vpc?: RealmVpc;
  /** Extra environment variables. @default - none */
  readonly environment?: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A function's own log group and role: the role may write to that log group only (no AWS
 * managed policy) and gets what the realm grants; X-Ray's wildcard is acknowledged.
 */
export function functionLogsAndRole(
  scope: Construct,
  functionName: string,
  retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
): { logGroup: logs.LogGroup; role: iam.Role } {
  const logGroup = new logs.LogGroup(scope, "Logs", {
    logGroupName: `/aws/lambda/${functionName}`,
    retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, "Role", {
    assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    description: `${functionName}: its own log group and what the realm grants`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [logGroup.logGroupArn],
    }),
  );
  acknowledge(
    role,
    "AwsSolutions-IAM5[Resource::*]",
    "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions",
  );
  return { logGroup, role };
}

/**
 * What every realm function shares: X-Ray, Powertools' service name, source maps, and
 * for database-facing ones the realm's VPC and the RDS CAs.
 */
export function functionRuntimeSettings(
  functionName: string,
  vpc: RealmVpc | undefined,
  extraEnvironment: Record<string, string> = {},
) {
  return {
    tracing: lambda.Tracing.ACTIVE,
    environment: {
      POWERTOOLS_SERVICE_NAME: functionName,
      NODE_OPTIONS: "--enable-source-maps",
      // On Lambda the RDS CAs are in the runtime's bundle (docs/connections.md §5).
      ...(vpc ? { NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem" } : {}),
      ...extraEnvironment,
    },
    ...(vpc ? { vpc: vpc.vpc, vpcSubnets: vpc.subnets, securityGroups: vpc.securityGroups } : {}),
  };
}

/** `lava-<realm>-<name>`, bundled from `lambda/handlers/<name>.ts`. */
export class RealmFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: RealmFunctionProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.name)) {
      throw new Error(
        `RealmFunction: name must be lower-case letters, digits and -, got ${JSON.stringify(props.name)}`,
      );
    }
    const functionName = `lava-${props.realmName}-${props.name}`;
    const { logGroup, role } = functionLogsAndRole(this, functionName, props.logRetention);
    this.fn = new NodejsFunction(this, "Function", {
      functionName,
      role,
      description: props.description,
      entry: `${REPO}lambda/handlers/${props.name}.ts`,
      handler: "handler",
      projectRoot: REPO,
      depsLockFilePath: `${REPO}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      logGroup,
      ...functionRuntimeSettings(functionName, props.vpc, props.environment),
      bundling: {
        format: OutputFormat.ESM,
        target: "node24",
        mainFields: ["module", "main"],
        minify: true,
        sourceMap: true,
        // Everything in the bundle, at the lockfile's versions, rather than the runtime's SDK.
        externalModules: [],
        // base64: shell-safe through esbuild's --define.
        define: { __LAVA_REALM__: `'"${props.realmBundle}"'` },
        banner:
          "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
  }
}
