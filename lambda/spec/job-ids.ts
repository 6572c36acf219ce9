/**
 * The job ids a chain's or a dispatch job's payload names (docs/pipelines.md §1,
 * §6): a list, or lava's comma-separated string, each id stripped, as lava's
 * handlers read them. Shared by `check` and the planners.
 */
export function payloadJobIds(payload: unknown): string[] {
  if (typeof payload === "string") return payload.split(",").map((id) => id.trim());
  if (Array.isArray(payload))
    return payload.filter((id): id is string => typeof id === "string").map((id) => id.trim());
  return [];
}
