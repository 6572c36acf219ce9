/**
 * `lava-<realm>-exe` (opt-in with `exe.enabled`): a container-image function
 * running the same runner code as lava-<realm>-runner, with psql and archive
 * tools for exe and pkg payloads. The image is built at deploy time (Docker
 * needed then); `cdk synth` only stages the build context.
 */

import { Duration } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { REPO } from "../paths";
import { functionLogsAndRole, functionRuntimeSettings } from "./realm-function";
import type { RealmVpc } from "./vpc-endpoints";

export interface ExeFunctionProps {
  readonly realmName: string;
  /** `encodeRealmBundle(...)` of the validated realm (a Docker build argument). */
  readonly realmBundle: string;
  /** @default 1024 */
  readonly memoryMb?: number;
  /** @default Duration.minutes(15) */
  readonly timeout?: Duration;
  /** @default - not in a VPC */
  readonly vpc?: RealmVpc;
}

export class ExeFunction extends Construct {
  readonly fn: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: ExeFunctionProps) {
    super(scope, id);
    const functionName = `lava-${props.realmName}-exe`;
    const { logGroup, role } = functionLogsAndRole(this, functionName);
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
      ...functionRuntimeSettings(functionName, props.vpc),
    });
  }
}
