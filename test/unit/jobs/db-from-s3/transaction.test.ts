import { describe, expect, it } from "vitest";
import {
  DEADLINE_MARGIN_MS,
  lockKey,
  statementTimeout,
} from "../../../../lambda/jobs/db-from-s3/transaction";

describe("statementTimeout", () => {
  it("leaves the margin before the deadline", () => {
    expect(statementTimeout(10_000 + DEADLINE_MARGIN_MS + 5_000, 10_000)).toBe(5_000);
  });

  it("is unset without a deadline", () => {
    expect(statementTimeout(undefined)).toBeUndefined();
  });

  it("refuses to start with less than a second to spare", () => {
    expect(() => statementTimeout(10_000 + DEADLINE_MARGIN_MS + 500, 10_000)).toThrow(
      "too little time left before the deadline to start a load (3500 ms)",
    );
  });
});

describe("lockKey", () => {
  it("is a stable signed 64-bit integer per logical table", () => {
    const key = lockKey('"sales"."orders"');
    expect(key).toBe(lockKey('"sales"."orders"'));
    expect(key).not.toBe(lockKey('"sales"."orders2"'));
    const n = BigInt(key);
    expect(n >= -(2n ** 63n) && n < 2n ** 63n).toBe(true);
  });
});
