/** Awaiting the error a promise must reject with. */
import { expect } from "vitest";

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
