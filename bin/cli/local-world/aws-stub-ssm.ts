import { createHash } from "node:crypto";
import {
  ApiError,
  type JsonHandler,
  STUB_ACCOUNT,
  STUB_REGION,
  textField,
} from "./aws-stub-common.js";

/** One stored SSM parameter. */
export interface StubParameter {
  value: string;
  type: "String" | "SecureString" | "StringList";
  /** KeyId of the last PutParameter (as sent; undefined when none was sent) or as seeded. */
  keyId?: string;
  version: number;
  description?: string;
  lastModified?: Date;
}

const TYPES: ReadonlyArray<StubParameter["type"]> = ["String", "SecureString", "StringList"];

/** The fake ciphertext GetParameter returns for a SecureString read without decryption. */
export function fakeCiphertext(value: string): string {
  return `AQICAH${createHash("sha256").update(value).digest("base64url").slice(0, 24)}encrypted`;
}

/** ARN the stub reports for a parameter name. */
export function parameterArn(name: string): string {
  const path = name.startsWith("/") ? name : `/${name}`;
  return `arn:aws:ssm:${STUB_REGION}:${STUB_ACCOUNT}:parameter${path}`;
}

/** GetParameter, GetParameters and PutParameter over the given parameter store. */
export function ssmHandlers(
  store: Map<string, StubParameter>,
  started: Date,
): Record<string, JsonHandler> {
  const render = (name: string, p: StubParameter, decrypt: boolean) => ({
    Name: name,
    Type: p.type,
    Value: p.type === "SecureString" && !decrypt ? fakeCiphertext(p.value) : p.value,
    Version: p.version,
    ARN: parameterArn(name),
    DataType: "text",
    LastModifiedDate: (p.lastModified ?? started).getTime() / 1000,
  });
  return {
    GetParameter(body) {
      const name = textField(body, "Name");
      const p = store.get(name);
      if (!p) throw new ApiError("ParameterNotFound", `Parameter ${name} not found.`);
      return { Parameter: render(name, p, body.WithDecryption === true) };
    },
    GetParameters(body) {
      const names = Array.isArray(body.Names) ? body.Names.map(String) : [];
      if (names.length === 0) throw new ApiError("ValidationException", "Names is required");
      const decrypt = body.WithDecryption === true;
      const found = names.flatMap((n) => {
        const p = store.get(n);
        return p ? [render(n, p, decrypt)] : [];
      });
      return { Parameters: found, InvalidParameters: names.filter((n) => !store.has(n)) };
    },
    PutParameter(body) {
      const name = textField(body, "Name");
      const value = textField(body, "Value");
      const existing = store.get(name);
      if (existing && body.Overwrite !== true) {
        throw new ApiError(
          "ParameterAlreadyExists",
          "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
        );
      }
      const typeText = textField(body, "Type", false) || existing?.type || "String";
      const type = TYPES.find((t) => t === typeText);
      if (!type) throw new ApiError("ValidationException", `Invalid Type ${typeText}`);
      const keyId = typeof body.KeyId === "string" ? body.KeyId : undefined;
      const description =
        typeof body.Description === "string" ? body.Description : existing?.description;
      const version = (existing?.version ?? 0) + 1;
      store.set(name, { value, type, keyId, version, description, lastModified: new Date() });
      return { Version: version, Tier: "Standard" };
    },
  };
}
