import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import AWSAccount from "s3rver/lib/models/account.js";
import { STUB_ACCESS_KEY_ID, STUB_ASSUMED_ACCESS_KEY_ID } from "./aws-stub-common.js";

/** The only credentials s3rver knows out of the box. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** Options for {@link startS3}. */
export interface LocalS3Options {
  /** Buckets to create before the server starts. */
  buckets?: string[];
}

/** A running s3rver on 127.0.0.1 with its own temp directory. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Where s3rver keeps buckets and objects (removed by stop). */
  directory: string;
  /** A path-style S3Client for this server (S3RVER credentials, checksums only when required). */
  client(): S3Client;
  /**
   * AWS_ENDPOINT_URL_S3, the WHEN_REQUIRED checksum settings, AWS_REGION and the S3RVER keys, for
   * SDK clients built from the environment; merging it with the AWS stub's env() in either order
   * works. s3rver checks only that the access key id is known (SigV4 signatures are not
   * verified); S3RVER, AKIDTEST and the STS stub's default assumed key are accepted.
   */
  env(): Record<string, string>;
  /** Lets s3rver accept another access key id (process-wide), e.g. custom STS stub credentials. */
  allowAccessKey(accessKeyId: string, secretAccessKey?: string): void;
  createBucket(bucket: string): Promise<void>;
  put(
    bucket: string,
    key: string,
    body: string | Buffer,
    opts?: { contentEncoding?: string },
  ): Promise<void>;
  /** The whole object body. */
  get(bucket: string, key: string): Promise<Buffer>;
  /** Closes the server and deletes its directory; safe to call twice. */
  stop(): Promise<void>;
}

const allowKey = (id: string, secret = "unused") =>
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(id, secret);

/** Starts s3rver on a free port of 127.0.0.1, storing objects in a fresh temp directory. */
export async function startS3(opts: LocalS3Options = {}): Promise<LocalS3> {
  allowKey(STUB_ACCESS_KEY_ID);
  allowKey(STUB_ASSUMED_ACCESS_KEY_ID);
  const directory = await mkdtemp(join(tmpdir(), "lava-s3-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
  });
  let address: Awaited<ReturnType<S3rver["run"]>>;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: S3Client[] = [];
  const client = (): S3Client => {
    const c = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    clients.push(c);
    return c;
  };
  let admin: S3Client | undefined;
  const adminClient = () => {
    admin ??= client();
    return admin;
  };
  let stopped: Promise<void> | undefined;

  return {
    endpoint,
    directory,
    client,
    env: () => ({
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    }),
    allowAccessKey: allowKey,
    async createBucket(bucket) {
      await adminClient().send(new CreateBucketCommand({ Bucket: bucket }));
    },
    async put(bucket, key, body, putOpts = {}) {
      await adminClient().send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentEncoding: putOpts.contentEncoding,
        }),
      );
    },
    async get(bucket, key) {
      const res = await adminClient().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await res.Body?.transformToByteArray()) ?? []);
    },
    stop() {
      stopped ??= (async () => {
        for (const c of clients) c.destroy();
        await server.close().catch(() => undefined);
        await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
