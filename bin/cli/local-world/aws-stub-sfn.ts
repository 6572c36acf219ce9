/**
 * A Step Functions stub (JSON 1.0, `AWSStepFunctions.<Op>`): StartExecution
 * with AWS's name rule (a name is used once per state machine; the same name
 * and input again while it runs returns the same execution), DescribeExecution,
 * RedriveExecution (AWS's rule: only a FAILED, TIMED_OUT or ABORTED execution),
 * ListExecutions and GetExecutionHistory (aws-stub-sfn-history.ts).
 * What an execution does is up to the test: `onStart` decides its outcome.
 */
import { ApiError, type JsonHandler, textField } from "./aws-stub-common.js";
import {
  getExecutionHistory,
  listExecutions,
  type StubHistoryEvent,
} from "./aws-stub-sfn-history.js";

/** One execution as the stub knows it. */
export interface StubExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";
  /** When it ended. @default - the time of the call that reports it */
  stopDate?: Date;
  /** How many times it was redriven. */
  redriveCount?: number;
  redriveDate?: Date;
  /**
   * Its events, as GetExecutionHistory answers them (ids and timestamps filled
   * in when left out). @default - ExecutionStarted, then the end its status says
   */
  history?: StubHistoryEvent[];
  output?: string;
  error?: string;
  cause?: string;
}

/** Step Functions state the tests seed and inspect. */
export interface SfnState {
  executions: Map<string, StubExecution>;
  /** Called on each new execution; may finish it right away (set status/output/error). */
  onStart?: (execution: StubExecution) => void;
  /** Called on each redrive, after the execution is RUNNING again. */
  onRedrive?: (execution: StubExecution) => void;
}

/** StartExecution, DescribeExecution and RedriveExecution over the given state. */
export function sfnHandlers(state: SfnState): Record<string, JsonHandler> {
  return {
    StartExecution(body) {
      const stateMachineArn = textField(body, "stateMachineArn");
      const name = textField(body, "name", false) || crypto.randomUUID();
      const input = textField(body, "input", false) || "{}";
      if (name.length > 80 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(name)) {
        throw new ApiError("InvalidName", `invalid execution name: ${name}`);
      }
      const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
      const existing = state.executions.get(executionArn);
      if (existing) {
        if (existing.status === "RUNNING" && existing.input === input) {
          return { executionArn, startDate: existing.startDate.getTime() / 1000 };
        }
        throw new ApiError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
      }
      const execution: StubExecution = {
        executionArn,
        stateMachineArn,
        name,
        input,
        startDate: new Date(),
        status: "RUNNING",
      };
      state.executions.set(executionArn, execution);
      state.onStart?.(execution);
      return { executionArn, startDate: execution.startDate.getTime() / 1000 };
    },
    RedriveExecution(body) {
      const arn = textField(body, "executionArn");
      const e = state.executions.get(arn);
      if (!e) throw new ApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
      if (e.status === "RUNNING" || e.status === "SUCCEEDED")
        throw new ApiError(
          "ExecutionNotRedrivable",
          `Execution is ${e.status} and cannot be redriven: '${arn}'`,
        );
      e.status = "RUNNING";
      e.redriveCount = (e.redriveCount ?? 0) + 1;
      e.redriveDate = new Date();
      delete e.error;
      delete e.cause;
      delete e.stopDate;
      state.onRedrive?.(e);
      return { redriveDate: e.redriveDate.getTime() / 1000 };
    },
    ListExecutions: (body) => listExecutions(state, body),
    GetExecutionHistory: (body) => getExecutionHistory(state, body),
    DescribeExecution(body) {
      const arn = textField(body, "executionArn");
      const e = state.executions.get(arn);
      if (!e) throw new ApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
      return {
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate.getTime() / 1000,
        input: e.input,
        ...(e.output === undefined ? {} : { output: e.output }),
        ...(e.error === undefined ? {} : { error: e.error }),
        ...(e.cause === undefined ? {} : { cause: e.cause }),
        ...(e.status === "RUNNING"
          ? {}
          : { stopDate: (e.stopDate?.getTime() ?? Date.now()) / 1000 }),
        ...(e.redriveCount === undefined ? {} : { redriveCount: e.redriveCount }),
      };
    },
  };
}
