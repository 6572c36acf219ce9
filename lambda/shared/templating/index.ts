/**
 * Jinja templating for job and trigger specs (SPEC §4, §6): lava renders its
 * templates with Jinja2; we use `@huggingface/jinja` (see `render.ts` for
 * where it differs), with Python-like datetimes and `utils` helpers.
 */
export { baseContext } from "./context";
export { type PyDateTime, pyDateTime } from "./py-datetime";
export { renderDeep, renderEnabled, renderTemplate, TemplateError } from "./render";
export { templateUtils } from "./utils";
