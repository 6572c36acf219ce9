/**
 * The Step Functions stub's executions, executed for real: each new execution
 * runs a (synthesized) definition locally with `aws-local-stepfunctions`, at
 * most `concurrency` at a time (like a runner's reserved concurrency), and
 * gets its status and output, or error and cause, when the local run ends.
 */
import type { SfnState, StubExecution } from "../../bin/cli/local-world/aws-stub-sfn.js";
import {
  type JsonValue,
  type LocalHandler,
  type LocalRun,
  runLocally,
  type StateMachineDefinition,
} from "./local-state-machine.js";

export interface LocalExecutionsOptions {
  /** Handlers by Task state name (see `runLocally`). */
  readonly handlers: Readonly<Record<string, LocalHandler>>;
  /** Local runs at once; the others wait, RUNNING, in start order. Default 4. */
  readonly concurrency?: number;
}

export interface LocalExecutions {
  /** Finished local runs by execution ARN. */
  readonly runs: ReadonlyMap<string, LocalRun>;
  /** The most local runs that were in progress at once. */
  readonly peak: number;
  /** Resolves once no execution of the stub is RUNNING; rejects after `timeoutMs`. */
  settled(timeoutMs?: number): Promise<void>;
  /** Executions started from now on are left RUNNING (the stub's `onStart` is removed). */
  stop(): void;
}

/** Wire the stub's `onStart` to run `definition` locally for every new execution. */
export function runExecutionsLocally(
  state: SfnState,
  definition: StateMachineDefinition,
  options: LocalExecutionsOptions,
): LocalExecutions {
  const limit = options.concurrency ?? 4;
  const queue: StubExecution[] = [];
  const runs = new Map<string, LocalRun>();
  let active = 0;
  let peak = 0;

  const finish = (execution: StubExecution, run: LocalRun): void => {
    runs.set(execution.executionArn, run);
    if (run.status === "SUCCEEDED") {
      execution.output = JSON.stringify(run.output ?? null);
    } else {
      execution.error = run.error?.name;
      execution.cause = run.error?.cause;
    }
    execution.status = run.status;
  };

  const execute = async (execution: StubExecution): Promise<void> => {
    try {
      const run = await runLocally(definition, JSON.parse(execution.input) as JsonValue, {
        handlers: options.handlers,
        executionName: execution.name,
        stateMachineName: execution.stateMachineArn.split(":").at(-1),
      });
      finish(execution, run);
    } catch (err) {
      // Not an execution failure but the harness's own: visible as a failed execution.
      execution.error = "Test.LocalRunCrashed";
      execution.cause = String((err as Error)?.stack ?? err);
      execution.status = "FAILED";
    }
  };

  const pump = (): void => {
    while (active < limit && queue.length > 0) {
      const next = queue.shift() as StubExecution;
      active += 1;
      peak = Math.max(peak, active);
      void execute(next).finally(() => {
        active -= 1;
        pump();
      });
    }
  };

  state.onStart = (execution) => {
    queue.push(execution);
    // After the StartExecution answer, as Step Functions runs executions asynchronously.
    setImmediate(pump);
  };

  return {
    runs,
    get peak() {
      return peak;
    },
    async settled(timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const running = [...state.executions.values()].filter((e) => e.status === "RUNNING");
        if (running.length === 0 && active === 0) return;
        if (Date.now() > until) {
          throw new Error(
            `${running.length} executions still RUNNING after ${timeoutMs} ms: ${running
              .slice(0, 5)
              .map((e) => e.name)
              .join(", ")}`,
          );
        }
        await new Promise((ok) => setTimeout(ok, 20));
      }
    },
    stop() {
      state.onStart = undefined;
    },
  };
}
