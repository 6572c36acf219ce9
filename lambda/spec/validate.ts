/**
 * The realm validator: one pass over a realm document that reports every
 * problem, each naming the file, the object (conn_id/job_id/trigger_id) and
 * the field with its bad value. The CLI, `cdk synth` and the functions all
 * use this one function.
 *
 * Objects are checked one by one, and the cross-object rules (references,
 * realm-scoped names) run on the raw fields, so an object with a type error
 * still gets its other problems reported.
 */
import type { z } from "zod";
import { SpecError } from "../shared/errors";
import { specTemplateProblems, splitTemplateProblems } from "../shared/templating/spec-templates";
import { unsupportedActionWarnings } from "./actions";
import { type ConnectionSpec, connectionSchema, isAuroraType, POSTGRES_TYPES } from "./connection";
import { dagGraph, dagLayers } from "./dag-graph";
import { checkDbFromS3Values } from "./db-from-s3-checks";
import { formatIssues, showValue } from "./format";
import { type JobSpec, jobSchema, LAVA_ONLY_JOB_FIELDS, SQL_JOB_TYPES } from "./job";
import { payloadJobIds } from "./job-ids";
import { type Realm, realmTopSchema } from "./realm";
import { isTemplated } from "./template-syntax";
import { type TriggerSpec, triggerSchema } from "./trigger";

export { isTemplated } from "./template-syntax";

export interface ValidateOptions {
  /** The realm name the caller expects (`--realm`, `-c realm=`); a different `realm:` is an error. */
  readonly expectedRealm?: string;
}

type Raw = Record<string, unknown>;
type Kind = "connection" | "job" | "trigger";
const ID_FIELD: Record<Kind, string> = {
  connection: "conn_id",
  job: "job_id",
  trigger: "trigger_id",
};
const LIST_KEY: Record<Kind, string> = {
  connection: "connections",
  job: "jobs",
  trigger: "s3triggers",
};
/** The SSM/Secrets Manager name prefix a realm may read. */
export function realmPrefix(realm: string): string {
  return `/lava/${realm}/`;
}

/** Name part of a Secrets Manager ARN (without the random 6-character suffix), or the input. */
export function secretName(idOrArn: string): string {
  const m = /^arn:aws[a-z-]*:secretsmanager:[^:]*:\d*:secret:(.+)$/.exec(idOrArn);
  if (!m?.[1]) return idOrArn;
  return m[1].replace(/-[A-Za-z0-9]{6}$/, "");
}

/** Whether a realm may read a secret: under `/lava/<realm>/` or listed in `secrets`. */
export function secretAllowed(
  realm: string,
  secrets: readonly string[],
  secretId: string,
): boolean {
  if (secretName(secretId).startsWith(realmPrefix(realm))) return true;
  return secrets.some((s) => s === secretId || secretName(s) === secretName(secretId));
}

function isRecord(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** One spec object on its way through validation. */
interface Item {
  readonly kind: Kind;
  /** `<file>: <kind> <id>: ` */
  readonly at: string;
  readonly raw: Raw;
  readonly problems: string[];
  parsed?: unknown;
}

/** Collects problems in file order: top level first, then each object. */
class Problems {
  readonly top: string[] = [];
  readonly items: Item[] = [];
  readonly warnings: string[] = [];

  all(): string[] {
    return [...this.top, ...this.items.flatMap((i) => i.problems)];
  }
}

function collect(kind: Kind, doc: Raw, file: string, out: Problems): Item[] {
  const list = doc[LIST_KEY[kind]];
  if (!Array.isArray(list)) return [];
  const idField = ID_FIELD[kind];
  const seen = new Map<string, number>();
  const items: Item[] = [];
  list.forEach((value, i) => {
    const id = isRecord(value) ? str(value[idField]) : undefined;
    const at = `${file}${kind} ${id || `#${i + 1}`}: `;
    if (!isRecord(value)) {
      out.items.push({
        kind,
        at,
        raw: {},
        problems: [`${at}expected a mapping of fields, got ${showValue(value)}`],
      });
      return;
    }
    // lava convention: x-/X- fields are the user's own, ignored.
    let raw = Object.fromEntries(Object.entries(value).filter(([k]) => !/^x-/i.test(k)));
    if (kind === "job") {
      const lavaOnly = Object.keys(raw).filter((k) =>
        (LAVA_ONLY_JOB_FIELDS as readonly string[]).includes(k),
      );
      for (const k of lavaOnly)
        out.warnings.push(`${at}${k}: lava field with no meaning here, ignored`);
      out.warnings.push(...unsupportedActionWarnings(at, raw));
      raw = Object.fromEntries(Object.entries(raw).filter(([k]) => !lavaOnly.includes(k)));
      // Lava's meanings kept, or changed, where a pasted spec may surprise.
      if (raw.enabled === undefined)
        out.warnings.push(
          `${at}enabled: not given: lava's default is false, so this job is skipped (disabled)`,
        );
      if (raw.iteration_limit === 0)
        out.warnings.push(
          `${at}iteration_limit: 0: lava never attempts the job (and reports success); here it makes one attempt`,
        );
    }
    const item: Item = { kind, at, raw, problems: [] };
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) {
        item.problems.push(
          `${at}${idField}: duplicate of ${kind} #${first + 1}, got ${showValue(id)}`,
        );
      } else seen.set(id, i);
    }
    out.items.push(item);
    items.push(item);
  });
  return items;
}

function parseItem(item: Item, schema: z.ZodType): void {
  const parsed = schema.safeParse(item.raw, { reportInput: true });
  if (parsed.success) item.parsed = parsed.data;
  else item.problems.push(...formatIssues(item.at, parsed.error.issues));
}

/** Realm-scoped names and the IAM/SSL rule (docs/connections.md §4), from raw fields. */
function checkConnection(item: Item, realm: string, secrets: readonly string[]): void {
  const { raw: c, at, problems } = item;
  const prefix = realmPrefix(realm);
  const type = str(c.type) ?? "";
  const password = str(c.password);
  const secretId = str(c.secret_id);
  if (type === "aws") {
    const keys = str(c.access_keys);
    if ((c.access_keys === undefined) === (c.role_arn === undefined)) {
      problems.push(`${at}access_keys: expected exactly one of access_keys or role_arn`);
    }
    if (keys !== undefined && !keys.startsWith(prefix)) {
      problems.push(
        `${at}access_keys: expected the name of an SSM parameter under ${prefix}, got ${showValue(keys)}`,
      );
    }
    const externalId = str(c.external_id);
    if (c.role_arn === undefined) {
      for (const f of ["external_id", "duration", "policy_arns", "policy", "tags"]) {
        if (c[f] !== undefined)
          problems.push(`${at}${f}: only meaningful with role_arn, got ${showValue(c[f])}`);
      }
    } else if (externalId !== undefined && !externalId.startsWith(prefix)) {
      problems.push(
        `${at}external_id: expected the name of an SSM parameter under ${prefix} holding the external ID (lava reads it from SSM), got ${showValue(externalId)}`,
      );
    }
    return;
  }
  if (password !== undefined && !password.startsWith(prefix)) {
    problems.push(
      `${at}password: expected the name of an SSM parameter under ${prefix} (not the password itself), got ${showValue(password)}`,
    );
  }
  if (secretId !== undefined && !secretAllowed(realm, secrets, secretId)) {
    problems.push(
      `${at}secret_id: expected a secret under ${prefix} or one listed in the realm's secrets, got ${showValue(secretId)}`,
    );
  }
  if (
    isAuroraType(type) &&
    c.ssl === false &&
    c.password === undefined &&
    c.secret_id === undefined
  ) {
    problems.push(
      `${at}ssl: cannot be false here: with neither password nor secret_id this connection authenticates with an IAM token, which requires SSL, got false`,
    );
  }
}

/** A dag names jobs of the realm, without a cycle (what `check` can see before a run). */
function checkDag(item: Item, jobIds: ReadonlySet<string>): void {
  const params = isRecord(item.raw.parameters) ? item.raw.parameters : {};
  const prefix = typeof params.job_prefix === "string" ? params.job_prefix : "";
  let graph: Map<string, string[]>;
  try {
    graph = dagGraph(item.raw.payload as Record<string, string | string[] | null>, prefix);
  } catch {
    return; // the schema reports a malformed payload
  }
  for (const id of graph.keys())
    if (!jobIds.has(id))
      item.problems.push(`${item.at}payload: job ${showValue(id)} is not defined in this realm`);
  try {
    dagLayers(graph, item.at);
  } catch (err) {
    item.problems.push(...((err as SpecError).problems ?? [String(err)]));
  }
}

/** Job ids a chain, dispatch or foreach names, and a dispatch action's, exist (templates aside). */
function checkPipelineJobs(
  item: Item,
  jobIds: ReadonlySet<string>,
  connection: (id: unknown, field: string) => void,
): void {
  const { raw } = item;
  const params = isRecord(raw.parameters) ? raw.parameters : {};
  const prefixOf = (v: unknown) => (typeof v === "string" ? v : "");
  const prefix = prefixOf(params.job_prefix) || prefixOf(raw.job_prefix);
  const known = (id: string, field: string) => {
    if (!isTemplated(id) && !jobIds.has(id))
      item.problems.push(`${item.at}${field}: job ${showValue(id)} is not defined in this realm`);
  };
  if (raw.type === "foreach") {
    if (typeof raw.payload === "string") known(raw.payload.trim(), "payload");
    const g = isRecord(params.foreach) ? params.foreach : {};
    if (g.type === "query") connection(g.conn_id, "parameters.foreach.conn_id");
    return;
  }
  const ids = payloadJobIds(raw.payload);
  for (const id of ids) known(`${prefix}${id}`, "payload");
  if (raw.type === "chain" && typeof params.start === "string" && !ids.includes(params.start))
    item.problems.push(
      `${item.at}parameters.start: ${showValue(params.start)} is not a job of the chain`,
    );
}

/** A dispatch action names a job of the realm (unless its job_id is a template). */
function checkActionJobs(item: Item, jobIds: ReadonlySet<string>): void {
  for (const event of ["on_success", "on_fail", "on_retry"]) {
    const list = item.raw[event];
    if (!Array.isArray(list)) continue;
    list.forEach((a, i) => {
      if (!isRecord(a) || a.action !== "dispatch" || typeof a.job_id !== "string") return;
      if (!isTemplated(a.job_id) && !jobIds.has(a.job_id))
        item.problems.push(
          `${item.at}${event}[${i}].job_id: job ${showValue(a.job_id)} is not defined in this realm`,
        );
    });
  }
}

/** Jobs name existing connections of the right type; triggers name existing jobs. */
function checkReferences(items: readonly Item[]): void {
  const connTypes = new Map<string, string>();
  const jobIds = new Set<string>();
  for (const { kind, raw } of items) {
    const id = str(raw[ID_FIELD[kind]]);
    if (id === undefined) continue;
    if (kind === "connection") connTypes.set(id, str(raw.type) ?? "");
    if (kind === "job") jobIds.add(id);
  }
  const isPostgres = (t: string | undefined) =>
    (POSTGRES_TYPES as readonly string[]).includes(t ?? "");
  const ref = (
    item: Item,
    field: string,
    id: unknown,
    ok: (type: string | undefined) => boolean,
    what: string,
  ) => {
    if (typeof id !== "string") return;
    const type = connTypes.get(id);
    if (ok(type)) return;
    const why = type === undefined ? "no connection has that id" : `it is of type ${type}`;
    item.problems.push(`${item.at}${field}: expected ${what}, but ${why}, got ${showValue(id)}`);
  };
  for (const item of items) {
    if (item.kind === "job") checkActionJobs(item, jobIds);
    const params = isRecord(item.raw.parameters) ? item.raw.parameters : {};
    if (item.kind === "job" && item.raw.type === "db_from_s3") {
      ref(item, "parameters.db_conn_id", params.db_conn_id, isPostgres, "a PostgreSQL connection");
      ref(
        item,
        "parameters.s3_conn_id",
        params.s3_conn_id,
        (t) => t === "aws",
        "an aws connection",
      );
    } else if (item.kind === "job" && item.raw.type === "dag" && isRecord(item.raw.payload)) {
      checkDag(item, jobIds);
    } else if (
      item.kind === "job" &&
      ["chain", "dispatch", "foreach"].includes(String(item.raw.type))
    ) {
      checkPipelineJobs(item, jobIds, (id, field) =>
        ref(item, field, id, isPostgres, "a PostgreSQL connection"),
      );
    } else if (
      item.kind === "job" &&
      (SQL_JOB_TYPES as readonly unknown[]).includes(item.raw.type)
    ) {
      ref(item, "parameters.conn_id", params.conn_id, isPostgres, "a PostgreSQL connection");
    } else if (item.kind === "job" && isRecord(params.connections)) {
      for (const [label, id] of Object.entries(params.connections)) {
        ref(
          item,
          `parameters.connections.${label}`,
          id,
          (t) => isPostgres(t) || t === "aws",
          "a PostgreSQL or aws connection",
        );
      }
    } else if (item.kind === "trigger") {
      const ids = Array.isArray(item.raw.job_id) ? item.raw.job_id : [item.raw.job_id];
      for (const id of ids) {
        if (typeof id === "string" && !isTemplated(id) && !jobIds.has(id)) {
          item.problems.push(
            `${item.at}job_id: expected the id of a job in this realm, got ${showValue(id)}`,
          );
        }
      }
    }
  }
}

const SCHEMAS: Record<Kind, z.ZodType> = {
  connection: connectionSchema,
  job: jobSchema,
  trigger: triggerSchema,
};

/**
 * Validate a parsed realm document. Throws `SpecError` listing every problem;
 * returns the realm (with warnings) when there are none.
 */
export function validateRealm(doc: unknown, source: string, options: ValidateOptions = {}): Realm {
  const file = `${source}: `;
  if (!isRecord(doc))
    throw new SpecError([`${file}expected a mapping of realm keys, got ${showValue(doc)}`]);
  const out = new Problems();
  const top = realmTopSchema.safeParse(
    Object.fromEntries(Object.entries(doc).filter(([k]) => !/^x-/i.test(k))),
    { reportInput: true },
  );
  if (!top.success) out.top.push(...formatIssues(file, top.error.issues));
  out.warnings.push(...unsupportedActionWarnings(file, doc));
  const realm = str(doc.realm) ?? "";
  if (options.expectedRealm !== undefined && realm !== options.expectedRealm) {
    out.top.push(
      `${file}realm: expected ${showValue(options.expectedRealm)} (the realm asked for), got ${showValue(doc.realm)}`,
    );
  }
  const vpc = isRecord(doc.vpc) ? doc.vpc : undefined;
  if (vpc?.create_endpoints === true && vpc.route_table_ids === undefined) {
    out.top.push(
      `${file}vpc.route_table_ids: required with create_endpoints (the S3 gateway endpoint is a route)`,
    );
  }
  const secrets = Array.isArray(doc.secrets)
    ? doc.secrets.filter((s): s is string => typeof s === "string")
    : [];
  const items = (["connection", "job", "trigger"] as const).flatMap((kind) =>
    collect(kind, doc, file, out),
  );
  // lava's realm dict: the name and the top-level scalar settings (as templates see it).
  const realmKeys = Object.keys(doc).filter(
    (k) => !/^x-/i.test(k) && (doc[k] === null || typeof doc[k] !== "object"),
  );
  for (const item of items) {
    parseItem(item, SCHEMAS[item.kind]);
    if (item.kind === "connection") checkConnection(item, realm, secrets);
    else {
      const found = specTemplateProblems(item.kind, item.raw, realmKeys);
      const { errors, warnings } = splitTemplateProblems(found.map((p) => `${item.at}${p}`));
      item.problems.push(...errors);
      out.warnings.push(...warnings);
    }
  }
  checkReferences(items);
  checkDbFromS3Values(items);

  const problems = out.all();
  if (problems.length > 0 || !top.success) throw new SpecError(problems);
  const { connections: _c, jobs: _j, s3triggers: _t, ...rest } = top.data;
  const of = <T>(kind: Kind) => items.filter((i) => i.kind === kind).map((i) => i.parsed as T);
  return {
    source,
    name: top.data.realm,
    top: rest,
    connections: of<ConnectionSpec>("connection"),
    jobs: of<JobSpec>("job"),
    triggers: of<TriggerSpec>("trigger"),
    warnings: out.warnings,
  };
}
