/**
 * A dag job's graph (docs/pipelines.md §5): every job named in the payload — as a
 * key or as a predecessor — with its predecessors, and its layers in order; a
 * cycle is a spec error naming its jobs. Used by `check` and by the planner.
 */
import { SpecError } from "../shared/errors";

/** The dag's graph: each job and its predecessors, ids prefixed. */
export function dagGraph(
  payload: Readonly<Record<string, string | readonly string[] | null>>,
  prefix = "",
): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [child, before] of Object.entries(payload)) {
    const preds = before === null ? [] : typeof before === "string" ? [before] : [...before];
    const id = `${prefix}${child}`;
    graph.set(id, [...new Set([...(graph.get(id) ?? []), ...preds.map((p) => `${prefix}${p}`)])]);
    for (const p of preds) if (!graph.has(`${prefix}${p}`)) graph.set(`${prefix}${p}`, []);
  }
  return graph;
}

/** The graph's layers in order; throws with the jobs of a cycle when there is one. */
export function dagLayers(graph: ReadonlyMap<string, readonly string[]>, at: string): string[][] {
  const left = new Map([...graph].map(([id, preds]) => [id, new Set(preds)]));
  const layers: string[][] = [];
  while (left.size > 0) {
    const ready = [...left].filter(([, preds]) => preds.size === 0).map(([id]) => id);
    if (ready.length === 0) {
      // What is left all waits on itself: name one cycle, in order.
      const start = [...left.keys()][0] as string;
      const path = [start];
      let next = [...(left.get(start) ?? [])][0] as string;
      while (!path.includes(next)) {
        path.push(next);
        next = [...(left.get(next) ?? [])][0] as string;
      }
      const cycle = [...path.slice(path.indexOf(next)), next];
      throw new SpecError([`${at}payload: jobs are in a cycle: ${cycle.join(" → ")}`]);
    }
    layers.push(ready.sort());
    for (const id of ready) left.delete(id);
    for (const preds of left.values()) for (const id of ready) preds.delete(id);
  }
  return layers;
}
