/**
 * Executing a synthesized state machine locally with `aws-local-stepfunctions`:
 * the definition is taken from the CloudFormation template (tokens replaced by
 * placeholder ARNs) and every Task state runs a local handler, never AWS.
 */
// The polyfill must load first: on Node 20 every Task state fails without it.
import "./promise-with-resolvers";
import type { Template } from "aws-cdk-lib/assertions";
import { ExecutionError, StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";

export type { StateMachineDefinition };
/** A JSON value as the library types it. */
export type JsonValue = Parameters<StateMachine["run"]>[0];
/** One entry of an execution's event log. */
export type LocalEvent =
  ReturnType<StateMachine["run"]>["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

export const PLACEHOLDER_REGION = "ap-southeast-2";
export const PLACEHOLDER_ACCOUNT = "123456789012";

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The placeholder ARN `definitionOf` puts where a resource's ARN (or a topic's Ref) was. */
export function placeholderArn(logicalId: string, type: string): string {
  const at = `${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}`;
  switch (type) {
    case "AWS::Lambda::Function":
      return `arn:aws:lambda:${at}:function:${logicalId}`;
    case "AWS::SNS::Topic":
      return `arn:aws:sns:${at}:${logicalId}`;
    case "AWS::SQS::Queue":
      return `arn:aws:sqs:${at}:${logicalId}`;
    case "AWS::StepFunctions::StateMachine":
      return `arn:aws:states:${at}:stateMachine:${logicalId}`;
    default:
      throw new Error(`no placeholder ARN for ${type} ${logicalId}`);
  }
}

const PSEUDO: Record<string, string> = {
  "AWS::Partition": "aws",
  "AWS::Region": PLACEHOLDER_REGION,
  "AWS::AccountId": PLACEHOLDER_ACCOUNT,
  "AWS::URLSuffix": "amazonaws.com",
};

/** Resolve a CloudFormation value made of strings, `Fn::Join`, `Ref` and `Fn::GetAtt [X, Arn]`. */
function resolveValue(value: unknown, resources: Resources): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) {
    const fn = value as Record<string, unknown>;
    if (Array.isArray(fn["Fn::Join"])) {
      const [sep, parts] = fn["Fn::Join"] as [string, unknown[]];
      return parts.map((p) => resolveValue(p, resources)).join(sep);
    }
    if (typeof fn.Ref === "string") {
      const pseudo = PSEUDO[fn.Ref];
      if (pseudo !== undefined) return pseudo;
      const resource = resources[fn.Ref];
      if (resource?.Type === "AWS::SNS::Topic" || resource?.Type === "AWS::SQS::Queue")
        return placeholderArn(fn.Ref, resource.Type);
      if (resource?.Type === "AWS::Lambda::Function") return fn.Ref;
      throw new Error(`cannot resolve Ref ${fn.Ref} (${resource?.Type ?? "not in the template"})`);
    }
    const getAtt = fn["Fn::GetAtt"];
    if (Array.isArray(getAtt) && getAtt[1] === "Arn" && typeof getAtt[0] === "string") {
      const resource = resources[getAtt[0]];
      if (!resource) throw new Error(`Fn::GetAtt of ${getAtt[0]}: not in the template`);
      return placeholderArn(getAtt[0], resource.Type);
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** The one state machine of the template: its logical id, name and resources. */
function theStateMachine(template: Template) {
  const machines = Object.entries(template.findResources("AWS::StepFunctions::StateMachine"));
  if (machines.length !== 1 || !machines[0])
    throw new Error(`expected one AWS::StepFunctions::StateMachine, found ${machines.length}`);
  const [logicalId, resource] = machines[0];
  const resources = (template.toJSON() as { Resources: Resources }).Resources;
  const props = resource.Properties as Record<string, unknown>;
  return { logicalId, props, resources };
}

/** The definition of the template's one state machine, tokens replaced by placeholders. */
export function definitionOf(template: Template): StateMachineDefinition {
  const { props, resources } = theStateMachine(template);
  return JSON.parse(resolveValue(props.DefinitionString, resources)) as StateMachineDefinition;
}

/** The state machine's name in the template (`StateMachineName`), for execution ids. */
export function stateMachineNameOf(template: Template): string {
  const { logicalId, props } = theStateMachine(template);
  return typeof props.StateMachineName === "string" ? props.StateMachineName : logicalId;
}

/** A local stand-in for a Task state's resource; its input is the state's effective input. */
export type LocalHandler = (input: unknown) => unknown;

export interface LocalRunOptions {
  /** Handlers by Task state name. A Task without one fails with `Test.NoLocalHandler` (never calls AWS). */
  readonly handlers: Readonly<Record<string, LocalHandler>>;
  /** Wait times in ms by Wait state name; every other Wait state waits 0 ms. */
  readonly waits?: Readonly<Record<string, number>>;
  /** Retry intervals in ms by state name; every other retrier waits 0 ms. */
  readonly retryIntervals?: Readonly<Record<string, number>>;
  /** `$$.Execution.Name`; default `local-<n>`. */
  readonly executionName?: string;
  /** For `$$.Execution.Id`; default `local`. */
  readonly stateMachineName?: string;
}

export interface LocalRun {
  readonly status: "SUCCEEDED" | "FAILED";
  /** The execution's output, when it succeeded. */
  readonly output: JsonValue | undefined;
  /** The execution's error and cause, when it failed. */
  readonly error: { readonly name: string; readonly cause: string } | undefined;
  /** States entered, in order (a retried Task is entered once). */
  readonly entered: readonly string[];
  /** Invocations of each Task's handler, retries included. */
  readonly calls: Readonly<Record<string, number>>;
  /** What each Task's handler was given, one entry per invocation. */
  readonly taskInputs: Readonly<Record<string, readonly unknown[]>>;
  readonly events: readonly LocalEvent[];
  /** The inputs a state was entered with, one per entry. */
  inputsAt(state: string): JsonValue[];
}

let executions = 0;

type States = StateMachineDefinition["States"];

/** Every state, those inside Map and Parallel states too (their names are unique in a definition). */
function* allStates(states: States): Generator<[string, States[string]]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    const nested = state as {
      ItemProcessor?: { States: States };
      Iterator?: { States: States };
      Branches?: { States: States }[];
    };
    for (const inner of [nested.ItemProcessor, nested.Iterator, ...(nested.Branches ?? [])])
      if (inner) yield* allStates(inner.States);
  }
}
const machines = new WeakMap<StateMachineDefinition, StateMachine>();

/**
 * Run a definition locally with zero waits and zero retry intervals (unless
 * given), every Task state answered by a local handler.
 */
export async function runLocally(
  definition: StateMachineDefinition,
  input: JsonValue,
  options: LocalRunOptions,
): Promise<LocalRun> {
  const calls: Record<string, number> = {};
  const taskInputs: Record<string, unknown[]> = {};
  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of allStates(definition.States)) {
    if (state.Type === "Task") {
      const handler = options.handlers[name];
      // Counted from 0 for the Tasks the caller answers; any other appears once entered.
      if (handler) {
        calls[name] = 0;
        taskInputs[name] = [];
      }
      taskResourceLocalHandlers[name] = async (taskInput) => {
        calls[name] = (calls[name] ?? 0) + 1;
        taskInputs[name] ??= [];
        taskInputs[name]?.push(structuredClone(taskInput));
        if (!handler) {
          throw Object.assign(new Error(`no local handler for Task state ${name}`), {
            name: "Test.NoLocalHandler",
          });
        }
        return (await handler(taskInput)) as JsonValue;
      };
    }
    if (state.Type === "Wait") waitTimeOverrides[name] = options.waits?.[name] ?? 0;
    if ("Retry" in state && state.Retry)
      retryIntervalOverrides[name] = options.retryIntervals?.[name] ?? 0;
  }
  for (const name of Object.keys(options.handlers)) {
    if (!(name in taskResourceLocalHandlers)) throw new Error(`no Task state named ${name}`);
  }

  executions += 1;
  const executionName = options.executionName ?? `local-${executions}`;
  // Validating a definition takes ~0.1 s: one StateMachine per definition.
  let machine = machines.get(definition);
  if (!machine) {
    machine = new StateMachine(definition);
    machines.set(definition, machine);
  }
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}:execution:${options.stateMachineName ?? "local"}:${executionName}`,
        Name: executionName,
      },
    },
  });
  let output: JsonValue | undefined;
  let error: LocalRun["error"];
  try {
    output = await execution.result;
  } catch (err) {
    if (!(err instanceof ExecutionError)) throw err;
    const cause = err.cause as Error;
    error = { name: cause.name, cause: cause.message };
  }
  // The execution is over: the log is closed and drains without waiting.
  const events: LocalEvent[] = [];
  for await (const event of execution.eventLogs) events.push(event);

  const entered = events.flatMap((e) => (e.type === "StateEntered" ? [e.state.name] : []));
  return {
    status: error ? "FAILED" : "SUCCEEDED",
    output,
    error,
    entered,
    calls,
    taskInputs,
    events,
    inputsAt: (state) =>
      events.flatMap((e) =>
        e.type === "StateEntered" && e.state.name === state ? [e.state.input] : [],
      ),
  };
}

/** Follow a simple reference path (`$.a.b`) into a value. */
export function valueAt(value: unknown, path: string): unknown {
  if (path === "$") return value;
  if (!path.startsWith("$.")) throw new Error(`unsupported path ${path}`);
  let at: unknown = value;
  for (const key of path.slice(2).split(".")) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * The seconds a Wait state would have waited at each of its entries of a run:
 * its `Seconds`, or its `SecondsPath` resolved against the input it was entered with.
 */
export function plannedWaits(
  definition: StateMachineDefinition,
  run: LocalRun,
  state: string,
): unknown[] {
  const wait = definition.States[state];
  if (wait?.Type !== "Wait") throw new Error(`${state}: not a Wait state`);
  return run
    .inputsAt(state)
    .map((input) =>
      wait.SecondsPath !== undefined ? valueAt(input, wait.SecondsPath) : wait.Seconds,
    );
}
