/** The variables every job template sees, as lava's `jinja_render_vars` builds them. */
import { type DtEnv, fromInstant } from "./jinja/py-datetime";
import { makeDtEnv } from "./jinja/py-datetime-classes";
import { processZone, UTC, ZoneTz } from "./jinja/py-tz";
import { PyDict, type PyValue, toPy } from "./jinja/values";
import { templateUtils } from "./utils";

/** A realm as templates see it: its name and its top-level settings. */
export interface TemplateRealm {
  readonly name: string;
  readonly top?: Readonly<Record<string, unknown>>;
}

export interface BaseContextOptions {
  /** The realm, or just its name (then `realm` holds only `realm.realm`). */
  readonly realm: TemplateRealm | string;
  /** The job spec; `job` adds `run_id`, `realm`, `ts_start`, `ts_ustart`, `globals`. */
  readonly job?: Readonly<Record<string, unknown>>;
  readonly runId?: string;
  readonly globals?: Readonly<Record<string, unknown>>;
  readonly vars?: Readonly<Record<string, unknown>>;
  /** The run start; lava's is local, aware, whole seconds. */
  readonly start: Date;
  /** IANA zone for `start`, `tzlocal()` and naive local times. @default the process zone (`TZ`) */
  readonly timeZone?: string;
}

const ENVS = new Map<string, DtEnv>();

/** The datetime environment (local zone, real clock) for a zone, made once. */
export function dtEnv(timeZone: string = processZone()): DtEnv {
  let env = ENVS.get(timeZone);
  if (!env) {
    env = makeDtEnv(new ZoneTz(timeZone, "tzlocal"), () => Date.now() * 1000);
    ENVS.set(timeZone, env);
  }
  return env;
}

/** A JS value (spec data, event fields) as a template value; Dates become aware UTC datetimes. */
export function templateValue(value: unknown, env: DtEnv = dtEnv()): PyValue {
  return toPy(value, (d) => fromInstant(env, d.getTime() * 1000, UTC));
}

/** lava's realm dict: `realm` (the name) and the realm's top-level scalar settings. */
function realmDict(realm: TemplateRealm | string, env: DtEnv): PyDict {
  if (typeof realm === "string") return PyDict.of({ realm });
  const top = Object.entries(realm.top ?? {}).filter(
    ([k, v]) => k !== "realm" && v !== undefined && (v === null || typeof v !== "object"),
  );
  return new PyDict([
    ["realm", realm.name],
    ...top.map(([k, v]): [PyValue, PyValue] => [k, templateValue(v, env)]),
  ]);
}

/**
 * The variables every job template sees (docs/templates.md §3), as lava builds them:
 * `realm` (lava's realm dict), `job` (the spec plus `run_id`, `realm`,
 * `ts_start`, `ts_ustart`, `globals`), `globals`, `vars` (missing: `{}`),
 * `start` (local, aware with `tzlocal()`, whole seconds as lava's
 * `now_tz()`), `ustart` (`start` in UTC) and `utils` (lava's `JINJA_UTILS`).
 * There is no `state`: lava's state items do not exist here, so a template
 * naming it fails. Callers add type-specific variables (`bucket`, `key`, …).
 */
export function baseContext(options: BaseContextOptions): Record<string, PyValue> {
  const env = dtEnv(options.timeZone);
  const startUs = Math.floor(options.start.getTime() / 1000) * 1e6;
  const start = fromInstant(env, startUs, env.local);
  const ustart = fromInstant(env, startUs, UTC);
  const globals = templateValue(options.globals ?? {}, env);
  const realm = realmDict(options.realm, env);
  const job = templateValue(options.job ?? {}, env) as PyDict;
  if (options.runId !== undefined) job.set("run_id", options.runId);
  job.set("realm", realm.get("realm") ?? null);
  job.set("ts_start", start);
  job.set("ts_ustart", ustart);
  job.set("globals", globals);
  return {
    job,
    realm,
    globals,
    start,
    ustart,
    utils: templateUtils(env),
    vars: templateValue(options.vars ?? {}, env),
  };
}
