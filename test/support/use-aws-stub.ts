/** One AWS stub per test file, with clean state and the SDK pointed at it before each test. */
import { afterAll, beforeAll, beforeEach, vi } from "vitest";
import { type AwsStub, startAwsStub } from "../../bin/cli/local-world/aws-stubs.js";

/**
 * Registers hooks that start the stub before the file's tests, stop it after,
 * and before each test forget its calls, parameters and secrets and set the
 * `AWS_*` variables of `stub.env()` (restored after the test by vitest's
 * `unstubEnvs`). Call at the top level of a test file; use the result in tests
 * and hooks only.
 */
export function useAwsStub(): AwsStub {
  let current: AwsStub | undefined;
  beforeAll(async () => {
    current = await startAwsStub();
  });
  afterAll(async () => {
    await current?.stop();
  });
  beforeEach(() => {
    const stub = started();
    stub.calls.length = 0;
    stub.ssm.clear();
    stub.secrets.clear();
    stub.states.executions.clear();
    stub.sns.topics.clear();
    stub.sqs.queues.clear();
    stub.events.length = 0;
    for (const [key, value] of Object.entries(stub.env())) vi.stubEnv(key, value);
  });
  function started(): AwsStub {
    if (!current)
      throw new Error("the AWS stub starts in beforeAll: use it inside tests and hooks");
    return current;
  }
  return new Proxy({} as AwsStub, {
    get(_target, prop) {
      const stub = started();
      const value = Reflect.get(stub, prop);
      return typeof value === "function" ? value.bind(stub) : value;
    },
  });
}
