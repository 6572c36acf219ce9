import { createHash } from "node:crypto";
import {
  ApiError,
  type JsonHandler,
  STUB_ACCOUNT,
  STUB_REGION,
  textField,
} from "./aws-stub-common.js";

/** ARN the stub reports for a secret name (with AWS's 6-character suffix, derived from the name). */
export function secretArn(name: string): string {
  const suffix = createHash("sha256").update(name).digest("hex").slice(0, 6);
  return `arn:aws:secretsmanager:${STUB_REGION}:${STUB_ACCOUNT}:secret:${name}-${suffix}`;
}

/** GetSecretValue over the given name → SecretString store; SecretId may be a name or an ARN. */
export function secretsHandlers(
  store: Map<string, string>,
  started: Date,
): Record<string, JsonHandler> {
  return {
    GetSecretValue(body) {
      const id = textField(body, "SecretId");
      const name = [...store.keys()].find((n) => n === id || secretArn(n) === id);
      if (name === undefined) {
        throw new ApiError(
          "ResourceNotFoundException",
          "Secrets Manager can't find the specified secret.",
        );
      }
      return {
        ARN: secretArn(name),
        Name: name,
        SecretString: store.get(name),
        VersionId: "a1b2c3d4-0000-4000-8000-000000000001",
        VersionStages: ["AWSCURRENT"],
        CreatedDate: started.getTime() / 1000,
      };
    },
  };
}
