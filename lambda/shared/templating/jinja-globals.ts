/**
 * The global variables Jinja2 gives every template that the engine lacks:
 * `true`/`false`/`none` (and `True`/`False`/`None`), `range` and `dict`.
 * The engine's chat-template extras (`raise_exception`, `strftime_now`) are
 * deliberately not among them.
 */

/** Python's `range(stop)` / `range(start, stop[, step])`. */
function pyRange(...args: unknown[]): number[] {
  const nums = args.filter((a): a is number => typeof a === "number");
  if (nums.length !== args.length || nums.length < 1 || nums.length > 3) {
    throw new TypeError("range() expects 1 to 3 integer arguments");
  }
  const [start, stop, step] =
    nums.length === 1 ? [0, nums[0] ?? 0, 1] : [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 1];
  if (step === 0) throw new RangeError("range() arg 3 must not be zero");
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/** Jinja2's `dict(a=1, b=2)`: the engine hands keyword arguments over as one object. */
function pyDict(...args: unknown[]): Record<string, unknown> {
  return Object.assign({}, ...args.filter((a) => a !== null && typeof a === "object"));
}

/** Jinja2's globals, as JS values; a template context may override them. */
export const JINJA_GLOBALS: Readonly<Record<string, unknown>> = {
  true: true,
  false: false,
  none: null,
  True: true,
  False: false,
  None: null,
  range: pyRange,
  dict: pyDict,
};
