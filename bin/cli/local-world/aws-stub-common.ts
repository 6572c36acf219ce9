/** AWS account id every stubbed ARN uses. */
export const STUB_ACCOUNT = "123456789012";
/** Region every stubbed ARN uses and the AWS stub's env() sets. */
export const STUB_REGION = "us-east-1";
/** Access key id the AWS stub's env() sets. */
export const STUB_ACCESS_KEY_ID = "AKIDTEST";
/** Access key id the STS stub's AssumeRole returns unless reconfigured. */
export const STUB_ASSUMED_ACCESS_KEY_ID = "ASIASTUBASSUMED00001";

/** An AWS-style error a JSON-protocol handler throws: `__type` and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Handles one JSON 1.1 operation: request body in, response body out (or throws ApiError). */
export type JsonHandler = (body: Record<string, unknown>) => unknown;

/** A string field of a request body; missing required fields throw ValidationException. */
export function textField(body: Record<string, unknown>, field: string, required = true): string {
  const value = body[field];
  if (typeof value === "string") return value;
  if (required) throw new ApiError("ValidationException", `${field} is required`);
  return "";
}
