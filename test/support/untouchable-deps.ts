/** Job dependencies for runs that must not reach AWS. */
import type { JobDeps } from "../../lambda/jobs/types";

/** Services that fail the test if a run touches them. */
export const untouchable: JobDeps = {
  resolve: {
    store: {
      getParameter: () => Promise.reject(new Error("no AWS call expected")),
      getSecret: () => Promise.reject(new Error("no AWS call expected")),
    },
    signToken: () => Promise.reject(new Error("no token expected")),
  },
  s3: () => {
    throw new Error("no S3 expected");
  },
};
