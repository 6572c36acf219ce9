/** Telling templates from plain values, for checks that can only run on plain ones. */

const TEMPLATE = /\{\{|\{%/;

/** Whether a string holds Jinja syntax (so it can only be checked after rendering). */
export function isTemplated(value: string): boolean {
  return TEMPLATE.test(value);
}
