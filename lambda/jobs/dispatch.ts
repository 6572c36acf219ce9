/** Checks on a dispatch's own fields, shared by the resolve step and the runner. */
import { SpecError } from "../shared/errors";
import type { Dispatch } from "./types";

/** The dispatch's `literal_parameters` (names of parameters never rendered again), checked. */
export function literalParameters(dispatch: Dispatch): ReadonlySet<string> {
  const names: unknown = dispatch.literal_parameters;
  if (names === undefined) return new Set();
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string"))
    throw new SpecError([
      `dispatch: literal_parameters: expected a list of parameter names, got ${JSON.stringify(names)}`,
    ]);
  return new Set(names as string[]);
}
