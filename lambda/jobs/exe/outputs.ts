/**
 * A payload's stdout or stderr, streamed to one S3 object (docs/exe-pkg.md §6): the
 * upload starts on the first byte, so an empty stream leaves no object, and
 * memory holds at most a few multipart parts, never the whole output. Several
 * processes (a payload prefix) write one after the other into the same object.
 */
import { PassThrough, type Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { isTransient, LavaError } from "../../shared/errors";
import { s3Url } from "../../shared/s3-objects";

const PART_SIZE = 5 * 1024 * 1024;

export class OutputSink {
  readonly url: string;
  #bytes = 0;
  #body: PassThrough | undefined;
  #done: Promise<void> | undefined;
  #error: unknown;
  /** Streams paused for backpressure, to resume if the upload fails. */
  readonly #paused = new Set<Readable>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {
    this.url = s3Url(bucket, key);
  }

  /** Bytes received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  #start(): PassThrough {
    const body = new PassThrough();
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: this.key, Body: body },
      partSize: PART_SIZE,
      queueSize: 2,
    });
    this.#done = upload.done().then(
      () => undefined,
      (err: unknown) => {
        // Keep draining the process (it must not block on a full pipe); report at the end.
        this.#error ??= err;
        body.resume();
        for (const s of this.#paused) s.resume();
        this.#paused.clear();
      },
    );
    return body;
  }

  /** Copy `stream` into the object, with backpressure; resolves when `stream` has ended. */
  attach(stream: Readable): Promise<void> {
    return new Promise((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => {
        this.#bytes += chunk.length;
        if (this.#error !== undefined) return;
        this.#body ??= this.#start();
        if (!this.#body.write(chunk)) {
          stream.pause();
          this.#paused.add(stream);
          this.#body.once("drain", () => {
            this.#paused.delete(stream);
            stream.resume();
          });
        }
      });
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", reject);
    });
  }

  /**
   * Give the object up: the upload is aborted (a multipart upload's parts are
   * removed) and nothing is saved. For output that must not be seen partial.
   */
  async abort(): Promise<void> {
    if (!this.#body) return;
    this.#error ??= new Error("aborted");
    this.#body.destroy(new Error("aborted"));
    await this.#done;
  }

  /** End the object and wait for the upload; throws if it failed. No object when nothing came. */
  async finish(): Promise<void> {
    this.#body?.end();
    await this.#done;
    if (this.#error !== undefined) {
      const e = this.#error as Error;
      throw new LavaError(`cannot save ${this.url}: ${e.name}: ${e.message}`, {
        cause: e,
        retryable: isTransient(e),
      });
    }
  }
}
