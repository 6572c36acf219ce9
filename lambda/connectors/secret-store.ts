/**
 * Reads SSM SecureStrings (decrypted) and Secrets Manager values through
 * Powertools Parameters, which caches each value in memory for `maxAgeSeconds`
 * so a warm function does not call AWS on every run. Only names under the
 * realm's prefix (or listed secrets) ever reach this store: callers check first.
 */
import type { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import type { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { isTransient, SecretAccessError } from "../shared/errors";

/** Where passwords and secrets come from; injected so domain code is testable. */
export interface SecretStore {
  /** Value of an SSM parameter, decrypted. */
  getParameter(name: string): Promise<string>;
  /** SecretString of a Secrets Manager secret. */
  getSecret(id: string): Promise<string>;
}

/** How long a value read from AWS is reused (seconds). */
export const SECRET_CACHE_SECONDS = 300;

function rootCause(err: unknown): unknown {
  let e = err;
  while (e instanceof Error && e.cause !== undefined && e.name.endsWith("ParameterError"))
    e = e.cause;
  return e;
}

function notFound(): Error {
  const err = new Error("no string value");
  err.name = "ResourceNotFound";
  return err;
}

function accessError(what: string, err: unknown): SecretAccessError {
  const cause = rootCause(err);
  const name = cause instanceof Error ? cause.name : "Error";
  const retryable = isTransient(cause);
  const why = /NotFound/.test(name)
    ? "not found"
    : name === "AccessDeniedException"
      ? "access denied"
      : name;
  return new SecretAccessError(`cannot read ${what}: ${why}`, { cause, retryable });
}

/** The AWS-backed store (SDK default credential, region and endpoint chain). */
export class AwsSecretStore implements SecretStore {
  #ssm: Promise<SSMProvider> | undefined;
  #secrets: Promise<SecretsProvider> | undefined;

  constructor(private readonly maxAgeSeconds = SECRET_CACHE_SECONDS) {}

  async getParameter(name: string): Promise<string> {
    this.#ssm ??= import("@aws-lambda-powertools/parameters/ssm").then((m) => new m.SSMProvider());
    try {
      const value = await (await this.#ssm).get(name, {
        decrypt: true,
        maxAge: this.maxAgeSeconds,
      });
      if (typeof value !== "string") throw notFound();
      return value;
    } catch (err) {
      throw accessError(`SSM parameter ${name}`, err);
    }
  }

  async getSecret(id: string): Promise<string> {
    this.#secrets ??= import("@aws-lambda-powertools/parameters/secrets").then(
      (m) => new m.SecretsProvider(),
    );
    try {
      const value = await (await this.#secrets).get(id, { maxAge: this.maxAgeSeconds });
      if (typeof value !== "string") throw notFound();
      return value;
    } catch (err) {
      throw accessError(`secret ${id}`, err);
    }
  }
}
