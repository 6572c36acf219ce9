/** The exceptions a Jinja2 template can raise, by their Python names. */

/** A Python exception raised while evaluating (`TypeError`, `ValueError`, …). */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = pyType;
  }
}

/** Jinja2's `TemplateSyntaxError`. */
export class TemplateSyntaxError extends PyError {
  constructor(message: string, line: number) {
    super("TemplateSyntaxError", `${message} (line ${line})`);
  }
}

/** Jinja2's `UndefinedError`: an undefined value was used (StrictUndefined). */
export class UndefinedError extends PyError {
  constructor(message: string) {
    super("UndefinedError", message);
  }
}

export const typeError = (message: string): PyError => new PyError("TypeError", message);
export const valueError = (message: string): PyError => new PyError("ValueError", message);
