/**
 * Conversion between JS values and the values of `@huggingface/jinja`.
 *
 * Context values are converted here rather than by the engine so that
 * datetimes ({@link pyDateTime}) print like Python's `str(datetime)` in
 * `{{ start }}`, `{{ start | string }}` and `~`, and so that JS functions
 * receive plain JS arguments.
 */
import { Environment } from "@huggingface/jinja";
import { isPyDateTime, type PyDateTime, pyDateTime } from "./py-datetime";

/** The engine's runtime values, structurally (its classes are not exported). */
export interface RuntimeValue {
  type: string;
  value: unknown;
  toString(): string;
}

type RuntimeCtor = new (value?: unknown) => RuntimeValue;

/**
 * The engine's value classes, taken from values its own converter makes
 * (the package exports only Environment and Interpreter).
 */
const probe = new Environment();
const ctorOf = (name: string, sample: unknown): RuntimeCtor =>
  probe.set(name, sample).constructor as unknown as RuntimeCtor;
const StringValue = ctorOf("s", "");
const IntegerValue = ctorOf("i", 1);
const FloatValue = ctorOf("f", 1.5);
const BooleanValue = ctorOf("b", true);
const NullValue = ctorOf("n", null);
const UndefinedValue = ctorOf("u", undefined);
const ArrayValue = ctorOf("a", []);
const ObjectValue = ctorOf("o", {}) as unknown as new (
  value: Map<string, RuntimeValue>,
) => RuntimeValue & { get builtins(): ReadonlyMap<string, RuntimeValue> };
const FunctionValue = ctorOf("fn", () => null);

/** A Map whose string form is the datetime's, for the engine's `~` operator. */
class PyDateTimeMap extends Map<string, RuntimeValue> {
  constructor(
    entries: Iterable<[string, RuntimeValue]>,
    private readonly text: string,
  ) {
    super(entries);
  }

  override toString(): string {
    return this.text;
  }
}

/** A {@link PyDateTime} in the engine: attributes and methods, printing like Python. */
class PyDateTimeValue extends ObjectValue {
  constructor(readonly py: PyDateTime) {
    super(
      new PyDateTimeMap(
        Object.entries(py).map(([key, value]): [string, RuntimeValue] => [key, toRuntime(value)]),
        py.toString(),
      ),
    );
  }

  override get builtins(): ReadonlyMap<string, RuntimeValue> {
    const text = this.py.toString();
    return new Map([...super.builtins, ["string", new FunctionValue(() => new StringValue(text))]]);
  }

  override toString(): string {
    return this.py.toString();
  }
}

/** A JS value → an engine value (what the engine's own converter does, plus datetimes). */
export function toRuntime(value: unknown): RuntimeValue {
  switch (typeof value) {
    case "string":
      return new StringValue(value);
    case "number":
      return Number.isInteger(value) ? new IntegerValue(value) : new FloatValue(value);
    case "bigint":
      return new IntegerValue(Number(value));
    case "boolean":
      return new BooleanValue(value);
    case "undefined":
    case "symbol":
      return new UndefinedValue();
    case "function": {
      const fn = value as (...args: unknown[]) => unknown;
      return new FunctionValue((args: RuntimeValue[]) => toRuntime(fn(...args.map(fromRuntime))));
    }
    default:
      break;
  }
  if (value === null) return new NullValue();
  if (Array.isArray(value)) return new ArrayValue(value.map(toRuntime));
  if (value instanceof Date) return new PyDateTimeValue(pyDateTime(value, "utc"));
  if (isPyDateTime(value as object)) return new PyDateTimeValue(value as PyDateTime);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
  return new ObjectValue(new Map(entries.map(([k, v]) => [String(k), toRuntime(v)])));
}

/** An engine value (a function argument) → a plain JS value. */
function fromRuntime(value: RuntimeValue): unknown {
  if (value instanceof PyDateTimeValue) return value.py;
  switch (value.type) {
    case "ArrayValue":
    case "TupleValue":
      return (value.value as RuntimeValue[]).map(fromRuntime);
    case "ObjectValue":
    case "KeywordArgumentsValue":
    case "NamespaceValue":
      return Object.fromEntries(
        [...(value.value as Map<string, RuntimeValue>)].map(([k, v]) => [k, fromRuntime(v)]),
      );
    case "NullValue":
      return null;
    case "UndefinedValue":
      return undefined;
    default:
      return value.value;
  }
}
