/** Awaiting the error a promise must reject with. */
import { expect } from "vitest";
import { SpecError } from "../../lambda/shared/errors";

/** The error `promise` rejects with, checked to be an instance of `type`; fails the test if it resolves. */
export async function rejectionOf<T extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  const err = await promise.then(
    () => expect.unreachable("expected a rejection"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}

/** The problems of the SpecError `fn` throws; fails the test if it throws nothing or something else. */
export function thrownProblems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as SpecError).problems;
  }
  return expect.unreachable("expected a SpecError");
}
