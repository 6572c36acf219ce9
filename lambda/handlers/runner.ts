/**
 * Lambda function `lava-<realm>-runner`: a dispatch in, a job result out.
 * Thin: the realm comes validated in the bundle, the deadline from the
 * context, everything else from the runner.
 */
import { rdsTokenSigner } from "../connectors/iam-token";
import { AwsSecretStore } from "../connectors/secret-store";
import { runJob } from "../jobs/runner";
import type { Dispatch, JobDeps, JobResult } from "../jobs/types";
import { LavaError } from "../shared/errors";
import { s3ClientFactory } from "../shared/s3-clients";
import { type Realm, validateRealm } from "../spec/validate";

/** The part of the Lambda context the runner uses. */
export interface RunnerContext {
  getRemainingTimeInMillis(): number;
  readonly awsRequestId?: string;
}

/** The realm the stack bundled in (esbuild `define`), validated again at cold start. */
declare const __LAVA_REALM__: unknown;

function bundledRealm(): Realm {
  if (typeof __LAVA_REALM__ === "undefined") {
    throw new LavaError(
      "this bundle carries no realm: build it with the realm stack (define __LAVA_REALM__)",
    );
  }
  return validateRealm(__LAVA_REALM__, "bundled realm");
}

/** A runner handler for a realm and services; the deadline is the function's remaining time. */
export function makeRunnerHandler(realm: Realm, deps: JobDeps) {
  return async (event: Dispatch, context: RunnerContext): Promise<JobResult> =>
    runJob(realm, event, deps, { deadline: Date.now() + context.getRemainingTimeInMillis() });
}

let handle: ReturnType<typeof makeRunnerHandler> | undefined;

/** The Lambda entry point; realm and clients are set up once per execution environment. */
export async function handler(event: Dispatch, context: RunnerContext): Promise<JobResult> {
  handle ??= makeRunnerHandler(bundledRealm(), {
    resolve: { store: new AwsSecretStore(), signToken: rdsTokenSigner() },
    s3: s3ClientFactory(),
  });
  return handle(event, context);
}
