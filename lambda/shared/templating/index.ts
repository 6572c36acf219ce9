/**
 * Jinja templating for job and trigger specs (docs/templates.md), rendering as
 * lava's Python Jinja2 does (see `render.ts`), with lava's variables and
 * `utils`.
 */
export {
  type BaseContextOptions,
  baseContext,
  dtEnv,
  type TemplateRealm,
  templateValue,
} from "./context";
export {
  compileTemplate,
  renderDeep,
  renderEnabled,
  renderTemplate,
  TemplateError,
} from "./render";
export { templateUtils, UTIL_NAMES } from "./utils";
