/**
 * The keys on the log lines of the runner and the s3trigger (docs/operations.md §5):
 * realm, job_id, run_id, execution and object, each on every line that knows it
 * (Powertools leaves out a key without a value). None of them can hold a secret.
 */

/** A type, not an interface: Powertools' log attributes need its implicit index signature. */
export type LogKeys = {
  readonly realm: string;
  readonly job_id?: string;
  readonly run_id?: string;
  /** The Step Functions execution ARN. */
  readonly execution?: string;
  /** `s3://bucket/key` of the object (or prefix, or manifest) the run is about. */
  readonly object?: string;
};

/** The log keys from what is known of a run: empty values are left out. */
export function logKeys(
  realm: string,
  known: {
    readonly job_id?: string | undefined;
    readonly run_id?: string | undefined;
    readonly execution?: string | undefined;
    readonly bucket?: string | undefined;
    readonly key?: string | undefined;
  },
): LogKeys {
  const object =
    known.bucket && known.key !== undefined ? `s3://${known.bucket}/${known.key}` : undefined;
  return {
    realm,
    ...(known.job_id ? { job_id: known.job_id } : {}),
    ...(known.run_id ? { run_id: known.run_id } : {}),
    ...(known.execution ? { execution: known.execution } : {}),
    ...(object ? { object } : {}),
  };
}
