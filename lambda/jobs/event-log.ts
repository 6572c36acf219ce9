/** The step log of a run (`events` in the result): short human-readable lines, no secrets. */

export class EventLog {
  readonly lines: string[] = [];
  readonly #t0 = Date.now();

  /** Add a line, prefixed with the seconds since the run started. */
  add(message: string): void {
    this.lines.push(`+${((Date.now() - this.#t0) / 1000).toFixed(3)}s ${message}`);
  }
}
