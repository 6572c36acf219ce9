/**
 * `asLavaError` (lambda/shared/errors.ts): a raw pg error — pg-protocol's DatabaseError,
 * whose `name` is the bare "error" — becomes the project's own class, with its SQLSTATE,
 * a message that says it, and the name the state machine's Retry/Catch match on.
 * Everything else passes through untouched.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  asLavaError,
  DatabasePermissionError,
  DatabaseServerError,
  ERROR_HANDLING,
  LavaError,
  LoadTimeoutError,
  RETRYABLE_ERROR_NAMES,
  SpecError,
} from "../../../lambda/shared/errors";

type DatabaseError = InstanceType<typeof pg.DatabaseError>;

/** An error as pg's parser builds it from a server ErrorResponse. */
function pgError(code: string, message: string): DatabaseError {
  const err = new pg.DatabaseError(message, message.length, "error");
  err.severity = "ERROR";
  err.code = code;
  return err;
}

/** A Node system error, as a failed socket write raises it. */
function systemError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: -32, syscall });
}

describe("asLavaError: SQLSTATEs become the project's classes", () => {
  it("starts from pg's bare `error` name", () => {
    expect(pgError("23505", "x").name).toBe("error");
  });

  it("makes 42501 a DatabasePermissionError that says how to find the GRANTs", () => {
    // Prepare
    const raw = pgError("42501", "permission denied for table ledger");
    // Act
    const err = asLavaError(raw, "warehouse", "job sales/load");
    // Assess
    expect(err).toBeInstanceOf(DatabasePermissionError);
    const e = err as DatabasePermissionError;
    expect(e.name).toBe("DatabasePermissionError");
    expect(e.code).toBe("42501");
    expect(e.retryable).toBe(false);
    expect(e.cause).toBe(raw);
    expect(e.message).toBe(
      'job sales/load: permission denied for table ledger (SQLSTATE 42501): "lava-aurora db-setup warehouse" shows what a load needs and the GRANTs',
    );
    expect(ERROR_HANDLING).toHaveProperty(e.name, "final");
  });

  it.each([
    ["40001", "could not serialize access due to concurrent update"],
    ["40P01", "deadlock detected"],
    ["55P03", 'could not obtain lock on relation "sales"'],
    ["57P01", "terminating connection due to administrator command"],
    ["57P02", "terminating connection because of crash of another server process"],
    ["57P03", "the database system is starting up"],
    ["08006", "connection failure"],
    ["08P01", "invalid message format"],
    ["53300", "sorry, too many clients already"],
    ["53100", "could not extend file: No space left on device"],
  ])("makes %s a retryable DatabaseServerError", (code, message) => {
    // Act
    const err = asLavaError(pgError(code, message), "warehouse");
    // Assess
    expect(err).toBeInstanceOf(DatabaseServerError);
    const e = err as DatabaseServerError;
    expect(e.name).toBe("DatabaseServerError");
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(true);
    expect(e.message).toBe(`${message} (SQLSTATE ${code})`);
    expect(RETRYABLE_ERROR_NAMES).toContain(e.name);
  });

  it.each([
    ["23505", 'duplicate key value violates unique constraint "sales_pkey"'],
    ["22P02", 'invalid input syntax for type integer: "x"'],
    ["42P01", 'relation "sales" does not exist'],
    ["42703", 'column "amount" does not exist'],
    ["57014", "canceling statement due to statement timeout"],
    ["40002", "integrity constraint violation"],
    ["P0001", "raised by the job's own SQL"],
    ["XX000", "internal error"],
  ])("makes %s a DatabaseServerError that is not retried", (code, message) => {
    // Act
    const err = asLavaError(pgError(code, message), "warehouse", "statement 3 (line 7)");
    // Assess
    expect(err).toBeInstanceOf(DatabaseServerError);
    const e = err as DatabaseServerError;
    expect(e.name).toBe("DatabaseServerError");
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(false);
    expect(e.message).toBe(`statement 3 (line 7): ${message} (SQLSTATE ${code})`);
  });

  it("keeps the driver's error as the cause, with all its fields", () => {
    // Prepare
    const raw = pgError("23505", "duplicate key");
    raw.detail = "Key (id)=(1) already exists.";
    // Act
    const err = asLavaError(raw, "warehouse") as DatabaseServerError;
    // Assess
    expect(err.cause).toBe(raw);
    expect((err.cause as DatabaseError).detail).toBe("Key (id)=(1) already exists.");
  });

  it("never hands back the bare `error` name for a SQLSTATE error", () => {
    for (const code of ["42501", "40001", "08006", "23505", "XX000", "P0001"]) {
      const err = asLavaError(pgError(code, "x"), "warehouse") as Error;
      expect(err.name, code).not.toBe("error");
      expect(Object.keys(ERROR_HANDLING), code).toContain(err.name);
    }
  });
});

describe("asLavaError: everything else passes through", () => {
  it.each([
    ["a SpecError", new SpecError(["job x: bad"])],
    ["a LoadTimeoutError", new LoadTimeoutError("deadline")],
    ["a LavaError with a SQLSTATE-like code", Object.assign(new LavaError("x"), { code: "23505" })],
  ])("returns %s unchanged", (_what, err) => {
    expect(asLavaError(err, "warehouse")).toBe(err);
  });

  it.each([
    ["an Error without a code", new Error("Connection terminated unexpectedly")],
    ["a Node error code", Object.assign(new Error("x"), { code: "ERR_STREAM_PREMATURE_CLOSE" })],
    ["a socket error", systemError("ECONNRESET", "read")],
    ["a five-letter socket error", systemError("EPIPE", "write")],
    ["a five-letter permission error", systemError("EPERM", "open")],
    ["a numeric code", Object.assign(new Error("x"), { code: 42501 })],
    ["a four-character code", Object.assign(new Error("x"), { code: "4250" })],
    ["a lower-case code", Object.assign(new Error("x"), { code: "42p01" })],
    [
      "an AWS SDK error",
      Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }),
    ],
  ])("returns %s unchanged", (_what, err) => {
    expect(asLavaError(err, "warehouse")).toBe(err);
  });

  it.each([
    ["a string", "boom"],
    ["a plain object with a SQLSTATE", { code: "23505", message: "x" }],
    ["undefined", undefined],
  ])("returns %s, which is not an Error, unchanged", (_what, value) => {
    expect(asLavaError(value, "warehouse")).toBe(value);
  });
});
