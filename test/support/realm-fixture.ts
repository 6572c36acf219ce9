/** Realm documents for tests, built from a small valid base. */
import type { Realm } from "../../lambda/spec/realm";
import { validateRealm } from "../../lambda/spec/validate";

/** A minimal valid realm document named `dev`, with overrides applied at the top level. */
export function realmDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    realm: "dev",
    region: "us-east-1",
    connections: [],
    jobs: [],
    s3triggers: [],
    ...overrides,
  };
}

/** A validated realm from `realmDoc(overrides)`. */
export function realmOf(overrides: Record<string, unknown> = {}): Realm {
  return validateRealm(realmDoc(overrides), "realms/dev.yaml");
}

/** The problems `validateRealm` reports for a document (empty when valid). */
export function problemsOf(doc: unknown, expectedRealm?: string): string[] {
  try {
    validateRealm(doc, "realms/dev.yaml", expectedRealm === undefined ? {} : { expectedRealm });
    return [];
  } catch (err) {
    return [...((err as { problems?: string[] }).problems ?? [String(err)])];
  }
}

/** A plain PostgreSQL connection `pg` (nothing listens there: for tests that never connect). */
export const PG_CONNECTION = {
  conn_id: "pg",
  type: "postgres",
  enabled: true,
  host: "h",
  port: 5432,
  database: "d",
  user: "u",
  password: "/lava/dev/pg",
} as const;
