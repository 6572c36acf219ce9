import { describe, expect, it } from "vitest";
import * as errors from "../../../lambda/shared/errors";
import {
  ERROR_HANDLING,
  PERMANENT_ERROR_NAMES,
  RETRYABLE_ERROR_NAMES,
} from "../../../lambda/shared/errors";
import { TemplateError } from "../../../lambda/shared/templating";

/** Every error class of the project, instantiated to read the name it sets. */
function errorNames(): string[] {
  const exported = Object.values(errors) as unknown[];
  const classes = [
    ...exported.filter(
      (v): v is typeof errors.LavaError =>
        typeof v === "function" &&
        (v === errors.LavaError || v.prototype instanceof errors.LavaError),
    ),
    TemplateError,
  ];
  return classes.map((C) => {
    const make = C as unknown as new (a: unknown, b: unknown) => Error;
    return new make((C as unknown) === errors.SpecError ? ["x"] : "x", { retryable: false }).name;
  });
}

describe("ERROR_HANDLING", () => {
  it("classifies every error class the project throws", () => {
    const names = errorNames();
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) expect(ERROR_HANDLING, name).toHaveProperty(name);
    expect(Object.keys(ERROR_HANDLING).sort()).toEqual([...new Set(names)].sort());
  });

  it("gives failed payloads further attempts, as lava's iteration_limit does, but no in-place retry", () => {
    expect(ERROR_HANDLING.PayloadError).toBe("attempt");
    expect(RETRYABLE_ERROR_NAMES).not.toContain("PayloadError");
    expect(PERMANENT_ERROR_NAMES).not.toContain("PayloadError");
  });

  it("derives the state machine's lists from the table, disjoint", () => {
    expect(RETRYABLE_ERROR_NAMES.filter((n) => PERMANENT_ERROR_NAMES.includes(n))).toEqual([]);
    expect(PERMANENT_ERROR_NAMES).toContain("DatabasePermissionError");
    expect(RETRYABLE_ERROR_NAMES).toContain("DatabaseConnectError");
  });
});
