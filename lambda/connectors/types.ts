/** What connection resolution produces. */

/** A PostgreSQL connection ready to use: every field present, password obtainable. */
export interface ResolvedDb {
  readonly connId: string;
  readonly type: string;
  /** `postgres-aurora`/`postgres-rds`: `aws_s3` import and IAM tokens available. */
  readonly aurora: boolean;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly description: string | undefined;
  readonly ssl: boolean;
  /** CA bundle for verification (docs/connections.md §5); undefined = Node's roots only. */
  readonly caFile: string | undefined;
  readonly preserveCase: boolean;
  /** `password`: from SSM or a secret; `iam`: a fresh token per call. */
  readonly auth: "password" | "iam";
  /**
   * The password, or a freshly signed IAM token. A function so the value is
   * never a property: it cannot end up in JSON, logs or `util.inspect` output.
   */
  readonly password: () => Promise<string>;
}

/** AWS credentials resolved from an `aws` connection. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface ResolvedAws {
  readonly connId: string;
  readonly region: string | undefined;
  /** Credentials; a function for the same reason as `ResolvedDb.password`. */
  readonly credentials: () => Promise<AwsCredentials>;
}
