/**
 * State machine `lava-<realm>-jobs` (STANDARD: execution names deduplicate
 * dispatches). Input `{job_id, parameters?, globals?, literal_parameters?, delay?}`
 * (docs/state-machine.md §1):
 * resolve → (disabled: done) → delay → attempts of the job, each with
 * retries on retryable error names only → result, or a notice and a failure.
 */
import { ArnFormat, Duration, Fn, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { PERMANENT_ERROR_NAMES, RETRYABLE_ERROR_NAMES } from "../../lambda/shared/errors";
import { acknowledge, acknowledgeWildcard, nagNotation } from "../nag";

/** Lambda service errors worth retrying for any task. */
export const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
] as const;

/** A step that only asks a realm function: Lambda's own transient errors, briefly. */
const SERVICE_RETRY: sfn.RetryProps = {
  errors: [...LAMBDA_SERVICE_ERRORS],
  interval: Duration.seconds(2),
  maxAttempts: 3,
  backoffRate: 2,
};

/** A run (or a fan-out item): the runner's retryable error names too, with backoff and jitter. */
const RUN_RETRY: sfn.RetryProps = {
  errors: [...RETRYABLE_ERROR_NAMES, ...LAMBDA_SERVICE_ERRORS],
  interval: Duration.seconds(5),
  maxAttempts: 3,
  backoffRate: 2,
  maxDelay: Duration.minutes(2),
  jitterStrategy: sfn.JitterType.FULL,
};

/** Job types the runner function runs; the others go to the exe function. */
export const RUNNER_JOB_TYPES = ["db_from_s3", "sql", "sqli", "dispatch"] as const;

export interface JobsStateMachineProps {
  readonly realmName: string;
  /** Validates the dispatch (`lambda/handlers/resolve.ts`). */
  readonly resolve: lambda.IFunction;
  /** Runs db_from_s3 jobs. */
  readonly runner: lambda.IFunction;
  /** Runs exe, pkg, sqlc and sqlv jobs. @default - those jobs fail with a clear error */
  readonly exe?: lambda.IFunction;
  /**
   * The bucket of the realm's s3_temp: a foreach with more than FOREACH_INLINE_ITEMS
   * items runs them from there in a Distributed Map. @default - no such foreach
   */
  readonly itemsBucket?: string;
  /** The realm has db_from_s3 jobs with `fan_out`: the load fan-out states are built. @default false */
  readonly fanOut?: boolean;
  /** Where failures are announced. */
  readonly notices: sns.ITopic;
  /** Execution logging; execution data (inputs, outputs) is never logged. @default sfn.LogLevel.ALL */
  readonly logLevel?: sfn.LogLevel;
  /** @default true */
  readonly tracing?: boolean;
}

export class JobsStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: JobsStateMachineProps) {
    super(scope, id);
    const notify = new tasks.SnsPublish(this, "Notify", {
      topic: props.notices,
      subject: sfn.JsonPath.format(
        `lava-aurora ${props.realmName}: job {} failed`,
        sfn.JsonPath.stringAt("$.job_id"),
      ),
      message: sfn.TaskInput.fromObject({
        realm: props.realmName,
        job_id: sfn.JsonPath.stringAt("$.job_id"),
        execution: sfn.JsonPath.stringAt("$$.Execution.Id"),
        error: sfn.JsonPath.stringAt("$.error.Error"),
        // The runner's failures carry its result (run_id, bucket, key, error), never a secret.
        cause: sfn.JsonPath.stringAt("$.error.Cause"),
        dispatch: sfn.JsonPath.objectAt("$$.Execution.Input"),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    notify.addRetry({
      errors: ["SNS.SdkClientException", "States.TaskFailed"],
      maxAttempts: 3,
      backoffRate: 2,
    });
    const failed = new sfn.Fail(this, "Job failed", {
      errorPath: "$.error.Error",
      causePath: "$.error.Cause",
    });
    notify.next(failed);

    const resolve = new tasks.LambdaInvoke(this, "Resolve", {
      lambdaFunction: props.resolve,
      // The execution names the run's log lines and starts its RunDelay (docs/operations.md §1).
      payload: sfn.TaskInput.fromObject({
        input: sfn.JsonPath.entirePayload,
        execution: {
          id: sfn.JsonPath.stringAt("$$.Execution.Id"),
          start_time: sfn.JsonPath.stringAt("$$.Execution.StartTime"),
        },
      }),
      payloadResponseOnly: true,
      resultPath: "$.plan",
      retryOnServiceExceptions: false,
    });
    resolve.addRetry(SERVICE_RETRY);
    resolve.addCatch(notify, { errors: ["States.ALL"], resultPath: "$.error" });

    const attemptsLeft = new sfn.Choice(this, "Attempts left?");
    // A run that failed for good: its on_fail actions, then the notice.
    const onFail = this.actions("on_fail", props.runner, notify);
    const onFailure = (task: tasks.LambdaInvoke) => {
      task.addRetry(RUN_RETRY);
      task.addCatch(attemptsLeft, { errors: ["States.ALL"], resultPath: "$.error" });
      return task;
    };
    const runJob = onFailure(
      new tasks.LambdaInvoke(this, "Run job", {
        lambdaFunction: props.runner,
        // Not `payload: TaskInput.fromJsonPathAt(...)`: with payloadResponseOnly CDK renders
        // that as the literal string `"Parameters": "$.plan.dispatch"` (aws/aws-cdk#34260).
        inputPath: "$.plan.dispatch",
        payloadResponseOnly: true,
        resultPath: "$.result",
        retryOnServiceExceptions: false,
      }),
    );
    const runExe = props.exe
      ? onFailure(
          new tasks.LambdaInvoke(this, "Run exe job", {
            lambdaFunction: props.exe,
            inputPath: "$.plan.dispatch",
            payloadResponseOnly: true,
            resultPath: "$.result",
            retryOnServiceExceptions: false,
          }),
        )
      : new sfn.Pass(this, "No exe function", {
          parameters: {
            Error: "ExeNotEnabled",
            Cause: `exe, pkg, sqlc and sqlv jobs need exe.enabled in realm ${props.realmName}`,
          },
          resultPath: "$.error",
        }).next(notify);

    const runPipeline = this.pipeline(props.realmName, attemptsLeft);
    // A foreach's items come from S3 or a database: the runner plans them, then they run as a chain.
    const planForeach = new tasks.LambdaInvoke(this, "Plan foreach", {
      lambdaFunction: props.runner,
      payload: sfn.TaskInput.fromObject({ foreach_plan: sfn.JsonPath.objectAt("$.plan.dispatch") }),
      payloadResponseOnly: true,
      resultPath: "$.plan.layers",
      retryOnServiceExceptions: false,
    });
    planForeach.addRetry(SERVICE_RETRY);
    planForeach.addCatch(attemptsLeft, { errors: ["States.ALL"], resultPath: "$.error" });

    const resultFailed = new sfn.Pass(this, "Run failed", {
      parameters: { "Error.$": "$.result.error.name", "Cause.$": "States.JsonToString($.result)" },
      resultPath: "$.error",
    }).next(attemptsLeft);
    const done = new sfn.Succeed(this, "Done", { outputPath: "$.result" });
    const checkResult = new sfn.Choice(this, "Run ok?")
      .when(sfn.Condition.stringEquals("$.result.status", "failed"), resultFailed)
      .otherwise(this.actions("on_success", props.runner, done));
    // The runner runs what needs only Node; exe, pkg and the psql-side SQL types
    // (sqlc, and sqlv as lava runs it, outside the worker) run where psql is.
    const route = new sfn.Choice(this, "Job type?");
    if (props.fanOut) {
      const planLoad = this.fanOutLoad(props, onFailure, runJob, checkResult);
      route.when(
        sfn.Condition.and(
          sfn.Condition.stringEquals("$.plan.type", "db_from_s3"),
          sfn.Condition.isPresent("$.plan.fan_out"),
        ),
        planLoad,
      );
    }
    route
      .when(
        sfn.Condition.or(
          ...RUNNER_JOB_TYPES.map((t) => sfn.Condition.stringEquals("$.plan.type", t)),
        ),
        runJob,
      )
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals("$.plan.type", "chain"),
          sfn.Condition.stringEquals("$.plan.type", "dag"),
        ),
        runPipeline,
      )
      .when(sfn.Condition.stringEquals("$.plan.type", "foreach"), planForeach)
      .otherwise(runExe);

    runJob.next(checkResult);
    runPipeline.next(checkResult);
    planForeach.next(
      props.itemsBucket
        ? new sfn.Choice(this, "Many items?")
            .when(
              sfn.Condition.isPresent("$.plan.layers.items_key"),
              this.foreachFromS3(props.realmName, props.itemsBucket, attemptsLeft).next(
                checkResult,
              ),
            )
            .otherwise(runPipeline)
        : runPipeline,
    );
    if (runExe instanceof tasks.LambdaInvoke) runExe.next(checkResult);

    // The attempt's number, from 1, in the dispatch every step of the attempt is given
    // ("Run job" takes the dispatch as it is): the run log's `attempt` (docs/operations.md §3).
    const numbered = new sfn.Pass(this, "Attempt number", {
      inputPath: "$.attempt.value",
      resultPath: "$.plan.dispatch.attempt",
    });
    numbered.next(route);
    const nextAttempt = new sfn.Wait(this, "Iteration delay", {
      time: sfn.WaitTime.secondsPath("$.plan.iteration_delay_seconds"),
    })
      .next(
        new sfn.Pass(this, "Next attempt", {
          parameters: { "value.$": "States.MathAdd($.attempt.value, 1)" },
          resultPath: "$.attempt",
        }),
      )
      .next(numbered);
    attemptsLeft
      .when(
        sfn.Condition.or(
          ...PERMANENT_ERROR_NAMES.map((n) => sfn.Condition.stringEquals("$.error.Error", n)),
        ),
        onFail,
      )
      .when(
        sfn.Condition.numberLessThanJsonPath("$.attempt.value", "$.plan.iteration_limit"),
        this.actions("on_retry", props.runner, nextAttempt),
      )
      .otherwise(onFail);

    const definition = resolve.next(
      new sfn.Choice(this, "Enabled?")
        .when(
          sfn.Condition.booleanEquals("$.plan.enabled", false),
          new sfn.Succeed(this, "Skipped (disabled)"),
        )
        .otherwise(
          new sfn.Wait(this, "Delay", { time: sfn.WaitTime.secondsPath("$.plan.delay_seconds") })
            .next(
              new sfn.Pass(this, "First attempt", {
                parameters: { value: 1 },
                resultPath: "$.attempt",
              }),
            )
            .next(numbered),
        ),
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
      tracingEnabled: props.tracing ?? true,
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
    const stack = Stack.of(this);
    if (props.itemsBucket)
      acknowledgeWildcard(
        role,
        stack,
        `arn:${stack.partition}:s3:::${props.itemsBucket}/*`,
        "the Distributed Maps read a foreach's or a fan-out load's item file, written under s3_temp by the planner; CDK's ItemReader grants the bucket's objects",
      );
    if (props.itemsBucket || props.fanOut) {
      // A large foreach and fan-out loads: their map runs' executions.
      const name = Fn.select(6, Fn.split(":", this.stateMachine.stateMachineArn));
      // CDK puts these in the state machine's DistributedMapPolicy.
      for (const tail of [":*", "/*:*"])
        acknowledgeWildcard(
          this.stateMachine,
          stack,
          `arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:${name}${tail}`,
          "the Distributed Map's map runs and their child executions, of this state machine only",
        );
    }
    // A chain's children are executions of this state machine, named when they start.
    acknowledgeWildcard(
      role,
      Stack.of(this),
      Stack.of(this).formatArn({
        service: "states",
        resource: "execution",
        resourceName: `lava-${props.realmName}-jobs*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      "a chain waits on and may stop its children: executions of this state machine, whose names are made when they start",
    );
    for (const fn of [props.resolve, props.runner, ...(props.exe ? [props.exe] : [])]) {
      acknowledge(
        role,
        `AwsSolutions-IAM5[Resource::${nagNotation(Stack.of(this), fn.functionArn)}:*]`,
        "invoking a realm function: CDK also grants its versions and aliases (…:*), of that one function only",
      );
    }
  }

  /**
   * A fan-out load (docs/db-from-s3.md §14): the runner plans it; one part runs as
   * any load ("Run job"), nothing to load ends with its result, and many parts
   * load as items in a Distributed Map — each item its own child execution and
   * Lambda invocation, at most `workers` at once, retried on retryable names —
   * then one publish. A failed item fails the map and the execution there (no
   * Catch): the target is unchanged, and a redrive runs only the unsuccessful
   * items before the publish; the realm's failed-executions alarm announces it.
   * `tolerated_failures` is the map's ToleratedFailureCount.
   */
  private fanOutLoad(
    props: JobsStateMachineProps,
    onFailure: (task: tasks.LambdaInvoke) => tasks.LambdaInvoke,
    runJob: sfn.IChainable,
    checkResult: sfn.IChainable,
  ): tasks.LambdaInvoke {
    const planLoad = onFailure(
      new tasks.LambdaInvoke(this, "Plan load", {
        lambdaFunction: props.runner,
        payload: sfn.TaskInput.fromObject({
          load_plan: sfn.JsonPath.objectAt("$.plan.dispatch"),
          attempt: sfn.JsonPath.numberAt("$.attempt.value"),
        }),
        payloadResponseOnly: true,
        resultPath: "$.load",
        retryOnServiceExceptions: false,
      }),
    );
    const publish = onFailure(
      new tasks.LambdaInvoke(this, "Publish load", {
        lambdaFunction: props.runner,
        payload: sfn.TaskInput.fromObject({
          load_publish: sfn.JsonPath.objectAt("$.load.plan"),
          attempt: sfn.JsonPath.numberAt("$.attempt.value"),
        }),
        payloadResponseOnly: true,
        resultPath: "$.result",
        retryOnServiceExceptions: false,
      }),
    ).next(checkResult);
    const items = (id: string, source: "state" | "s3") => {
      const load = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: props.runner,
        payload: sfn.TaskInput.fromObject({ load_item: sfn.JsonPath.entirePayload }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
      });
      load.addRetry(RUN_RETRY);
      const map = new sfn.DistributedMap(this, `${id}s`, {
        ...(source === "state"
          ? { itemsPath: "$.load.items" }
          : {
              itemReader: new sfn.S3JsonItemReader({
                bucket: s3.Bucket.fromBucketName(this, "LoadItemsBucket", props.itemsBucket ?? ""),
                key: sfn.JsonPath.stringAt("$.load.items_key"),
              }),
            }),
        itemSelector: {
          plan: sfn.JsonPath.objectAt("$.load.plan"),
          item: sfn.JsonPath.objectAt("$$.Map.Item.Value"),
          attempt: sfn.JsonPath.numberAt("$.attempt.value"),
        },
        maxConcurrencyPath: "$.load.plan.workers",
        toleratedFailureCountPath: "$.load.plan.tolerated_failures",
        // Items may take the runner's whole 15 minutes: beyond an Express child's 5.
        mapExecutionType: sfn.StateMachineType.STANDARD,
        resultPath: sfn.JsonPath.DISCARD,
      });
      map.itemProcessor(load);
      return map.next(publish);
    };
    const fanOut = props.itemsBucket
      ? new sfn.Choice(this, "Items in S3?")
          .when(sfn.Condition.isPresent("$.load.items_key"), items("Load listed item", "s3"))
          .otherwise(items("Load item", "state"))
      : items("Load item", "state");
    planLoad.next(
      new sfn.Choice(this, "Fan out?")
        .when(sfn.Condition.stringEquals("$.load.action", "fan_out"), fanOut)
        .when(
          sfn.Condition.stringEquals("$.load.action", "done"),
          new sfn.Pass(this, "Nothing to load", {
            inputPath: "$.load.result",
            resultPath: "$.result",
          }).next(checkResult),
        )
        .otherwise(runJob),
    );
    return planLoad;
  }

  /** This state machine, by its ARN made from its name: a token would make it depend on itself. */
  private selfMachine(realmName: string): sfn.IStateMachine {
    this.self ??= sfn.StateMachine.fromStateMachineArn(
      this,
      "Self",
      Stack.of(this).formatArn({
        service: "states",
        resource: "stateMachine",
        resourceName: `lava-${realmName}-jobs`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    return this.self;
  }

  private self: sfn.IStateMachine | undefined;

  /** A child job as its own execution (`startExecution.sync:2`, linked to this one). */
  private childTask(id: string, realmName: string): tasks.StepFunctionsStartExecution {
    return new tasks.StepFunctionsStartExecution(this, id, {
      stateMachine: this.selfMachine(realmName),
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      input: sfn.TaskInput.fromObject({
        job_id: sfn.JsonPath.stringAt("$.input.job_id"),
        globals: sfn.JsonPath.objectAt("$.input.globals"),
        run_id: sfn.JsonPath.stringAt("$.input.run_id"),
      }),
      // The child's input names this execution (AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID).
      associateWithParent: true,
      resultSelector: { "execution.$": "$.ExecutionArn", "status.$": "$.Status" },
      resultPath: "$.run",
    });
  }

  /**
   * A pipeline (docs/pipelines.md §2): Resolve's (or the foreach planner's) layers,
   * one after another in a loop, each layer's children in parallel, at most
   * `workers` at once, each its own execution. A chain is layers of one child and
   * one worker. A failure `can_fail` does not allow lets the layer's other
   * children finish (lava lets running siblings finish too), then stops the
   * pipeline with ChildJobError before the next layer. A loop, not a Map over the
   * layers: no later layer can have started when one stops the pipeline.
   */
  private pipeline(realmName: string, onError: sfn.IChainable): sfn.Chain {
    const runChild = this.childTask("Run child", realmName);
    const done = new sfn.Pass(this, "Child done", {
      parameters: {
        "job_id.$": "$.input.job_id",
        "execution.$": "$.run.execution",
        status: "succeeded",
        stop: false,
      },
    });
    const failed = (id: string, stop: boolean) =>
      new sfn.Pass(this, id, {
        parameters: {
          "job_id.$": "$.input.job_id",
          status: "failed",
          "error.$": "$.error.Error",
          "cause.$": "$.error.Cause",
          stop,
        },
      });
    runChild.addCatch(
      new sfn.Choice(this, "May fail?")
        .when(
          sfn.Condition.booleanEquals("$.can_fail", true),
          failed("Child failed, goes on", false),
        )
        .otherwise(failed("Child failed", true)),
      { errors: ["States.ALL"], resultPath: "$.error" },
    );
    const layer = new sfn.Map(this, "Run layer", {
      itemsPath: "$.layer.children",
      maxConcurrencyPath: "$.plan.workers",
      resultPath: "$.layer.results",
    });
    layer.itemProcessor(runChild.next(done));
    layer.addCatch(onError, { errors: ["States.ALL"], resultPath: "$.error" });
    const start = new sfn.Pass(this, "Pipeline start", {
      parameters: { index: 0, "count.$": "States.ArrayLength($.plan.layers)" },
      resultPath: "$.layers",
    });
    const more = new sfn.Choice(this, "More layers?");
    const next = new sfn.Pass(this, "Next layer", {
      parameters: { "children.$": "States.ArrayGetItem($.plan.layers, $.layers.index)" },
      resultPath: "$.layer",
    });
    const stopped = new sfn.Pass(this, "Child stopped it", {
      parameters: {
        Error: "ChildJobError",
        "Cause.$": "States.Format('a child failed: {}', States.JsonToString($.layer.results))",
      },
      resultPath: "$.error",
    }).next(onError);
    const check = new sfn.Pass(this, "Layer result", {
      parameters: { "stop.$": "States.ArrayContains($.layer.results[*].stop, true)" },
      resultPath: "$.layer.check",
    });
    const advance = new sfn.Pass(this, "Layer done", {
      parameters: {
        "index.$": "States.MathAdd($.layers.index, 1)",
        "count.$": "$.layers.count",
      },
      resultPath: "$.layers",
    }).next(more);
    next
      .next(layer)
      .next(check)
      .next(
        new sfn.Choice(this, "Layer stops it?")
          .when(sfn.Condition.booleanEquals("$.layer.check.stop", true), stopped)
          .otherwise(advance),
      );
    const result = new sfn.Pass(this, "Pipeline result", {
      parameters: {
        status: "ok",
        "job_id.$": "$.job_id",
        "run_id.$": "$.plan.dispatch.run_id",
        "layers.$": "$.layers.count",
      },
      resultPath: "$.result",
    });
    more
      .when(sfn.Condition.numberLessThanJsonPath("$.layers.index", "$.layers.count"), next)
      .otherwise(result);
    return sfn.Chain.custom(start, [result], start.next(more));
  }

  /**
   * A foreach too large for the state (docs/pipelines.md §7): the planner wrote the
   * children to S3; a Distributed Map reads them and runs each as its own
   * execution, one at a time. A failure `can_fail` does not allow fails the map
   * run, and the foreach with it.
   */
  private foreachFromS3(realmName: string, bucket: string, onError: sfn.IChainable): sfn.Chain {
    const runChild = this.childTask("Run foreach child", realmName);
    const done = new sfn.Pass(this, "Foreach child done", {
      parameters: { "job_id.$": "$.input.job_id", status: "succeeded" },
    });
    runChild.addCatch(
      new sfn.Choice(this, "Foreach child may fail?")
        .when(
          sfn.Condition.booleanEquals("$.can_fail", true),
          new sfn.Pass(this, "Foreach child failed, foreach goes on", {
            parameters: { "job_id.$": "$.input.job_id", status: "failed" },
          }),
        )
        .otherwise(
          new sfn.Fail(this, "Foreach stopped", {
            error: "ChildJobError",
            causePath: "$.error.Cause",
          }),
        ),
      { errors: ["States.ALL"], resultPath: "$.error" },
    );
    const map = new sfn.DistributedMap(this, "Run foreach from S3", {
      itemReader: new sfn.S3JsonItemReader({
        bucket: s3.Bucket.fromBucketName(this, "ItemsBucket", bucket),
        key: sfn.JsonPath.stringAt("$.plan.layers.items_key"),
      }),
      // lava runs a foreach's iterations one after the other.
      maxConcurrency: 1,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(runChild.next(done));
    map.addCatch(onError, { errors: ["States.ALL"], resultPath: "$.error" });
    return map.next(
      new sfn.Pass(this, "Foreach result", {
        parameters: {
          status: "ok",
          "job_id.$": "$.job_id",
          "run_id.$": "$.plan.dispatch.run_id",
          "items.$": "$.plan.layers.count",
        },
        resultPath: "$.result",
      }),
    );
  }

  /**
   * The job's actions for an event (docs/actions.md §4), when it has any: the
   * runner function renders and sends them with the whole state (plan, result or
   * error). Best effort: a failure here is caught and the flow goes on to `next`.
   */
  private actions(
    event: "on_success" | "on_fail" | "on_retry",
    runner: lambda.IFunction,
    next: sfn.IChainable,
  ): sfn.Choice {
    const run = new tasks.LambdaInvoke(this, `${event} actions`, {
      lambdaFunction: runner,
      payload: sfn.TaskInput.fromObject({ action_event: event, state: sfn.JsonPath.entirePayload }),
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    run.addCatch(next, { errors: ["States.ALL"], resultPath: sfn.JsonPath.DISCARD });
    return new sfn.Choice(this, `${event} actions?`)
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent(`$.plan.actions.${event}`),
          sfn.Condition.numberGreaterThan(`$.plan.actions.${event}`, 0),
        ),
        run.next(next),
      )
      .otherwise(next);
  }
}
