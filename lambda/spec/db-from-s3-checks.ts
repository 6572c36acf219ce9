/**
 * db_from_s3 values checked when the realm is validated (`lava-aurora check`,
 * synth), with the parsers a run uses, so what can only fail later fails now:
 * column specs, COPY options, /regex names (docs/db-from-s3.md §4-§6), and columns a
 * trigger may not set (a trigger's parameters are dispatch parameters).
 */
import { dispatchProblems, specValueProblems } from "../jobs/db-from-s3/params";
import { isTemplated } from "./template-syntax";

type Raw = Record<string, unknown>;

/** A spec object as the realm validator holds it. */
export interface CheckedItem {
  readonly kind: "connection" | "job" | "trigger";
  /** `<file>: <kind> <id>: ` */
  readonly at: string;
  readonly raw: Raw;
  readonly problems: string[];
}

const isRecord = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const paramsOf = (raw: Raw): Raw => (isRecord(raw.parameters) ? raw.parameters : {});

/** Add the problems of db_from_s3 jobs, and of triggers dispatching them, to their items. */
export function checkDbFromS3Values(items: readonly CheckedItem[]): void {
  const preserveCase = new Map<string, boolean>();
  const jobs = new Map<string, Raw>();
  for (const { kind, raw } of items) {
    if (kind === "connection" && typeof raw.conn_id === "string") {
      preserveCase.set(raw.conn_id, raw.preserve_case === true);
    }
    if (kind === "job" && raw.type === "db_from_s3" && typeof raw.job_id === "string") {
      jobs.set(raw.job_id, paramsOf(raw));
    }
  }
  const caseOf = (params: Raw) =>
    typeof params.db_conn_id === "string" && (preserveCase.get(params.db_conn_id) ?? false);

  for (const item of items) {
    const at = `${item.at}parameters.`;
    if (item.kind === "job" && item.raw.type === "db_from_s3") {
      const params = paramsOf(item.raw);
      item.problems.push(...specValueProblems(params, at, caseOf(params)));
    } else if (item.kind === "trigger" && isRecord(item.raw.parameters)) {
      const params = item.raw.parameters;
      const ids = Array.isArray(item.raw.job_id) ? item.raw.job_id : [item.raw.job_id];
      const targets = ids.filter(
        (id): id is string => typeof id === "string" && !isTemplated(id) && jobs.has(id),
      );
      const first = targets[0];
      if (first === undefined) continue;
      const problems = new Set<string>();
      for (const id of targets) {
        const own = jobs.get(id) ?? {};
        for (const p of dispatchProblems(own, { ...own, ...params }, at, `job ${id}`)) {
          problems.add(p);
        }
      }
      for (const p of specValueProblems(params, at, caseOf(jobs.get(first) ?? {}))) {
        problems.add(p);
      }
      item.problems.push(...problems);
    }
  }
}
