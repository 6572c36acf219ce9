/**
 * Error classes of lava-aurora. Every class sets `name` explicitly: the state
 * machine's Retry/Catch match on it and it must survive minification.
 *
 * `retryable` separates transient failures (network, throttling, lock timeouts)
 * from permanent ones (bad spec, bad data) so only the former are retried.
 */
export class LavaError extends Error {
  /** Whether running the same thing again later may succeed. */
  readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LavaError";
    this.retryable = options?.retryable ?? false;
  }
}

/** A realm file, connection, job or trigger spec is invalid. Never retryable. */
export class SpecError extends LavaError {
  /** One line per problem, each naming the file, object and field. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(problems.join("\n"), options);
    this.name = "SpecError";
    this.problems = problems;
  }
}

/** A connection cannot be resolved to something usable (disabled, missing fields, …). */
export class ConnectionConfigError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConnectionConfigError";
  }
}

/**
 * Reading a password, secret or credentials from AWS failed. Retryable when
 * the cause is throttling or a network failure; not when the parameter or
 * secret is missing or access is denied.
 */
export class SecretAccessError extends LavaError {
  constructor(message: string, options: { cause?: unknown; retryable: boolean }) {
    super(message, options);
    this.name = "SecretAccessError";
  }
}

/** The database could not be reached or refused the session. */
export class DatabaseConnectError extends LavaError {
  /** PostgreSQL SQLSTATE, when the server answered with one. */
  readonly code: string | undefined;

  constructor(message: string, options: { cause?: unknown; retryable: boolean; code?: string }) {
    super(message, options);
    this.name = "DatabaseConnectError";
    this.code = options.code;
  }
}

const RETRYABLE_AWS_ERRORS = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalServerErrorException",
  "InternalFailure",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

const RETRYABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Whether an error from an AWS SDK call or a socket is worth retrying. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; $retryable?: unknown; $metadata?: unknown };
  if (RETRYABLE_AWS_ERRORS.has(e.name)) return true;
  if (e.$retryable) return true;
  if (typeof e.code === "string" && RETRYABLE_NODE_CODES.has(e.code)) return true;
  const status = (e.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode;
  if (typeof status === "number" && status >= 500) return true;
  return false;
}

/** An S3 object a load needs does not exist (a mandatory manifest entry, or the object without `skip_missing`). */
export class ObjectMissingError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ObjectMissingError";
  }
}

/** The S3 object was replaced while it was being loaded: nothing was committed. */
export class ObjectChangedError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ObjectChangedError";
  }
}

/** A manifest lists an entry a load may not read: outside s3_sources, under s3_temp, twice, or itself. */
export class ManifestError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ManifestError";
  }
}

/** The target table is not in a state the mode allows (abort: not empty; switch: neither empty; missing without columns). */
export class TargetStateError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TargetStateError";
  }
}

/** The data does not fit the table: names the object and, where PostgreSQL says, the line. */
export class BadDataError extends LavaError {
  readonly code: string | undefined;
  readonly line: number | undefined;

  constructor(message: string, options: { cause?: unknown; code?: string; line?: number }) {
    super(message, options);
    this.name = "BadDataError";
    this.code = options.code;
    this.line = options.line;
  }
}

/** The run's deadline came before the load finished (statement_timeout or client side). */
export class LoadTimeoutError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: true });
    this.name = "LoadTimeoutError";
  }
}

/**
 * Any other error the database server reported; SQLSTATE kept in `code`. Named
 * apart from pg's own `DatabaseError` (the driver's class it wraps).
 */
export class DatabaseServerError extends LavaError {
  readonly code: string | undefined;

  constructor(message: string, options: { cause?: unknown; code?: string; retryable: boolean }) {
    super(message, options);
    this.name = "DatabaseServerError";
    this.code = options.code;
  }
}

/** The database refused a privilege (SQLSTATE 42501); the message says what to grant. Never retried. */
export class DatabasePermissionError extends LavaError {
  readonly code: string | undefined;

  constructor(message: string, options: { cause?: unknown; code?: string }) {
    super(message, { cause: options.cause, retryable: false });
    this.name = "DatabasePermissionError";
    this.code = options.code;
  }
}

/** SQLSTATEs (and classes) worth retrying: serialization, deadlock, locks, shutdown, connection, resources. */
export function isRetryableSqlState(code: string | undefined): boolean {
  if (!code) return false;
  return (
    ["40001", "40P01", "55P03", "57P01", "57P02", "57P03"].includes(code) ||
    code.startsWith("08") ||
    code.startsWith("53")
  );
}

/**
 * A raw driver error (pg's `error` with a SQLSTATE) as the project's own class, so
 * results never carry the bare name `error`: 42501 becomes a
 * {@link DatabasePermissionError} naming what `db-setup` checks; anything else a
 * {@link DatabaseServerError} with its SQLSTATE. LavaErrors pass through unchanged, and
 * so do Node's system errors, whose codes may look like SQLSTATEs (`EPIPE`, `EPERM`).
 */
export function asLavaError(err: unknown, connId: string, where?: string): unknown {
  if (err instanceof LavaError || !(err instanceof Error)) return err;
  const { code, syscall } = err as { code?: unknown; syscall?: unknown };
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return err;
  if (typeof syscall === "string") return err;
  const at = where ? `${where}: ` : "";
  if (code === "42501")
    return new DatabasePermissionError(
      `${at}${err.message} (SQLSTATE 42501): "lava-aurora db-setup ${connId}" shows what a load needs and the GRANTs`,
      { cause: err, code },
    );
  return new DatabaseServerError(`${at}${err.message} (SQLSTATE ${code})`, {
    cause: err,
    code,
    retryable: isRetryableSqlState(code),
  });
}

/**
 * An exe/pkg payload exited non-zero (or could not be started). Not retried in
 * place, but the job's `iteration_limit` gives it further attempts, as lava does
 * for a failing payload.
 */
export class PayloadError extends LavaError {
  /** The exit code, when the payload ran and exited. */
  readonly exitCode: number | undefined;

  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, { cause: options?.cause, retryable: false });
    this.name = "PayloadError";
    this.exitCode = options?.exitCode;
  }
}

/** An exe/pkg payload outlived its `timeout` (or the run's deadline): its process group was killed. */
export class PayloadTimeoutError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: false });
    this.name = "PayloadTimeoutError";
  }
}

/**
 * A SQL job's statement outlived the job's `timeout` or the run's deadline: it
 * was cancelled (`pg_cancel_backend`, then `pg_terminate_backend`) and the
 * session closed. In a transaction nothing was committed.
 */
export class SqlTimeoutError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: false });
    this.name = "SqlTimeoutError";
  }
}

/**
 * A pipeline's child job failed and nothing allows it to (a chain's `can_fail`):
 * the pipeline stops. The child had its own attempts; the pipeline makes none
 * (resume it with `start`: docs/pipelines.md §3).
 */
export class ChildJobError extends LavaError {
  /** What each child run so far said (job_id, status, reason, error). */
  readonly children: readonly unknown[];

  constructor(message: string, children: readonly unknown[]) {
    super(message, { retryable: false });
    this.name = "ChildJobError";
    this.children = children;
  }
}

/**
 * A fan-out load's items did not all load (more failed than `tolerated_failures`):
 * nothing was published, the staging is kept, and another attempt or a redrive
 * loads only the items that are missing (docs/db-from-s3.md §14).
 */
export class LoadItemsError extends LavaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retryable: false });
    this.name = "LoadItemsError";
  }
}

/** A part is larger than one invocation can load (docs/db-from-s3.md §14): refused at plan time, nothing loaded. */
export class LoadTooLargeError extends LavaError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = "LoadTooLargeError";
  }
}

/**
 * How a failed run is handled, by error name — the one table the runner function
 * and the state machine read:
 * - `retry`: may be transient. When the error says `retryable` (throttling, a
 *   network failure, a lock timeout, the deadline) the runner throws it, named, and
 *   the state machine's Retry runs the task again with backoff; otherwise, or once
 *   those retries are spent, the job's further attempts (`iteration_limit`) follow.
 * - `attempt`: never retried in place; further attempts per `iteration_limit`
 *   (a payload that failed, an object not there yet).
 * - `final`: another attempt cannot cure it (a wrong dispatch or spec, bad data, a
 *   table in the wrong state, an object replaced — its new version has its own
 *   event, a missing privilege): no retry, no further attempt, a notice.
 */
export const ERROR_HANDLING = {
  LavaError: "retry",
  DatabaseConnectError: "retry",
  DatabaseServerError: "retry",
  SecretAccessError: "retry",
  LoadTimeoutError: "retry",
  ObjectMissingError: "attempt",
  PayloadError: "attempt",
  PayloadTimeoutError: "attempt",
  SqlTimeoutError: "attempt",
  LoadItemsError: "attempt",
  SpecError: "final",
  TemplateError: "final",
  ConnectionConfigError: "final",
  BadDataError: "final",
  TargetStateError: "final",
  ObjectChangedError: "final",
  ManifestError: "final",
  DatabasePermissionError: "final",
  ChildJobError: "final",
  LoadTooLargeError: "final",
} as const satisfies Record<string, "retry" | "attempt" | "final">;

export type ErrorName = keyof typeof ERROR_HANDLING;

const named = (kind: (typeof ERROR_HANDLING)[ErrorName]) =>
  (Object.keys(ERROR_HANDLING) as ErrorName[]).filter((n) => ERROR_HANDLING[n] === kind);

/** Error names the state machine's Retry matches (the runner throws their retryable failures). */
export const RETRYABLE_ERROR_NAMES: readonly ErrorName[] = named("retry");

/** Error names that end a run with no further attempt. */
export const PERMANENT_ERROR_NAMES: readonly ErrorName[] = named("final");
