/** Python's `datetime.timedelta`. */
import { PyError, typeError } from "./errors";
import { bind, intOf, type Kwargs, numeric, PyFunction, PyObject, type PyValue } from "./values";

const US_PER_DAY = 86_400_000_000;

/** A duration in whole microseconds, normalised like Python (days, seconds, microseconds). */
export class PyTimeDelta extends PyObject {
  readonly typeName = "datetime.timedelta";
  readonly days: number;
  readonly seconds: number;
  readonly microseconds: number;
  constructor(readonly us: number) {
    super();
    this.days = Math.floor(us / US_PER_DAY);
    const rest = us - this.days * US_PER_DAY;
    this.seconds = Math.floor(rest / 1e6);
    this.microseconds = rest - this.seconds * 1e6;
  }
  override getAttr(name: string): PyValue | undefined {
    switch (name) {
      case "days":
        return BigInt(this.days);
      case "seconds":
        return BigInt(this.seconds);
      case "microseconds":
        return BigInt(this.microseconds);
      case "total_seconds":
        return new PyFunction(name, () => this.us / 1e6);
      default:
        return TIMEDELTA_CLASS.getAttr(name);
    }
  }
  override str(): string {
    const hh = Math.floor(this.seconds / 3600);
    const mm = String(Math.floor((this.seconds % 3600) / 60)).padStart(2, "0");
    const ss = String(this.seconds % 60).padStart(2, "0");
    const frac = this.microseconds ? `.${String(this.microseconds).padStart(6, "0")}` : "";
    const day = this.days ? `${this.days} day${Math.abs(this.days) === 1 ? "" : "s"}, ` : "";
    return `${day}${hh}:${mm}:${ss}${frac}`;
  }
  override repr(): string {
    const parts = [
      this.days ? `days=${this.days}` : "",
      this.seconds ? `seconds=${this.seconds}` : "",
      this.microseconds ? `microseconds=${this.microseconds}` : "",
    ].filter(Boolean);
    return `datetime.timedelta(${parts.join(", ") || "0"})`;
  }
  override truthy(): boolean {
    return this.us !== 0;
  }
  override equals(other: PyValue): boolean {
    return other instanceof PyTimeDelta && other.us === this.us;
  }
  override compare(other: PyValue): number | undefined {
    return other instanceof PyTimeDelta ? Math.sign(this.us - other.us) : undefined;
  }
  override hashKey(): string {
    return `td:${this.us}`;
  }
  override binop(op: string, other: PyValue, reflected: boolean): PyValue | undefined {
    if (op === "neg") return new PyTimeDelta(-this.us);
    if (op === "pos") return this;
    if (op === "abs") return new PyTimeDelta(Math.abs(this.us));
    if (other instanceof PyTimeDelta) {
      const [a, b] = reflected ? [other.us, this.us] : [this.us, other.us];
      switch (op) {
        case "+":
          return new PyTimeDelta(a + b);
        case "-":
          return new PyTimeDelta(a - b);
        case "/":
          if (b === 0) throw new PyError("ZeroDivisionError", "division by zero");
          return a / b;
        case "//":
          if (b === 0) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
          return BigInt(Math.floor(a / b));
        case "%":
          return new PyTimeDelta(a - Math.floor(a / b) * b);
        default:
          return undefined;
      }
    }
    const n = numeric(other);
    if (n === undefined) return undefined;
    if (op === "*") return new PyTimeDelta(roundHalfEven(this.us * n));
    if (!reflected && (op === "/" || op === "//")) {
      if (n === 0) throw new PyError("ZeroDivisionError", "division by zero");
      if (op === "//" && intOf(other) === undefined) return undefined;
      return new PyTimeDelta(op === "/" ? roundHalfEven(this.us / n) : Math.floor(this.us / n));
    }
    return undefined;
  }
}

/** Round to an integer, ties to even (Python's rounding of microseconds). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const UNITS: Record<string, number> = {
  weeks: 7 * US_PER_DAY,
  days: US_PER_DAY,
  hours: 3_600_000_000,
  minutes: 60_000_000,
  seconds: 1_000_000,
  milliseconds: 1000,
  microseconds: 1,
};

/** `timedelta(days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0)`. */
export function makeTimeDelta(args: PyValue[], kwargs: Kwargs): PyTimeDelta {
  const order = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"];
  const b = bind("timedelta", order, args, kwargs, Object.fromEntries(order.map((k) => [k, 0n])));
  let us = 0;
  for (const k of order) {
    const n = numeric(b[k] ?? 0n);
    if (n === undefined) throw typeError(`unsupported type for timedelta ${k} component`);
    us += n * (UNITS[k] ?? 1);
  }
  if (Math.abs(us) >= 1e9 * US_PER_DAY) throw new PyError("OverflowError", "days out of range");
  return new PyTimeDelta(roundHalfEven(us));
}

class TimeDeltaClass extends PyFunction {
  override readonly typeName = "type";
  override repr(): string {
    return "<class 'datetime.timedelta'>";
  }
}

/** The `datetime.timedelta` class. */
export const TIMEDELTA_CLASS: PyFunction = new TimeDeltaClass("timedelta", makeTimeDelta, {
  min: new PyTimeDelta(-999999999 * US_PER_DAY),
  max: new PyTimeDelta(1e9 * US_PER_DAY - 1),
  resolution: new PyTimeDelta(1),
});

export { US_PER_DAY };
