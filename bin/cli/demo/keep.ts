/** What `lava-aurora demo --keep` prints: how to reach the world it left running. */
import { KEYS } from "./data";
import { AURORA_CONN, JOBS } from "./realm-doc";

// Shown in this order; the stub endpoints for Secrets Manager and STS are not needed here.
const SHOWN = [
  "AWS_ENDPOINT_URL_SSM",
  "AWS_ENDPOINT_URL_S3",
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_REQUEST_CHECKSUM_CALCULATION",
  "AWS_RESPONSE_CHECKSUM_VALIDATION",
] as const;

/** Shell lines that set up another shell and connect, for a world with `env` and `realmFile`. */
export function keepInstructions(
  env: Readonly<Record<string, string>>,
  realmFile: string,
): string[] {
  return [
    ...SHOWN.map((k) => `export ${k}=${env[k] ?? ""}`),
    "unset AWS_PROFILE",
    `npx lava-aurora psql ${AURORA_CONN} --realm-file ${realmFile}`,
    "# May's file again: skipped as a duplicate (--param reload=true loads it anyway)",
    `npx lava-aurora run ${JOBS.members} --realm-file ${realmFile} \\`,
    `  --param key=${KEYS.may}`,
  ];
}
