/**
 * State machine `lava-<realm>-jobs` (STANDARD: execution names deduplicate
 * dispatches). This first version runs the job once and fails the execution
 * when the run failed; attempts, retries and notices build on it.
 */
import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { acknowledge, nagNotation } from "../nag";

export interface JobsStateMachineProps {
  readonly realmName: string;
  readonly runner: lambda.IFunction;
  /** Execution logging; execution data (inputs, outputs) is never logged. @default sfn.LogLevel.ALL */
  readonly logLevel?: sfn.LogLevel;
}

export class JobsStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: JobsStateMachineProps) {
    super(scope, id);
    const run = new tasks.LambdaInvoke(this, "Run job", {
      lambdaFunction: props.runner,
      payloadResponseOnly: true,
      resultPath: "$.result",
      retryOnServiceExceptions: true,
    });
    const failed = new sfn.Fail(this, "Job failed", {
      errorPath: "$.result.error.name",
      causePath: "$.result.error.message",
    });
    const definition = run.next(
      new sfn.Choice(this, "Failed?")
        .when(sfn.Condition.stringEquals("$.result.status", "failed"), failed)
        .otherwise(new sfn.Succeed(this, "Done", { outputPath: "$.result" })),
    );
    const logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName: `/aws/vendedlogs/states/lava-${props.realmName}-jobs`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineName: `lava-${props.realmName}-jobs`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: {
        destination: logGroup,
        level: props.logLevel ?? sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    const role = this.stateMachine.role;
    acknowledge(
      role,
      "AwsSolutions-IAM5[Resource::*]",
      "X-Ray tracing and CloudWatch Logs delivery have no resource-level permissions",
    );
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${nagNotation(Stack.of(this), props.runner.functionArn)}:*]`,
      "invoking the runner function: CDK also grants its versions and aliases (…:*), of this one function only",
    );
  }
}
