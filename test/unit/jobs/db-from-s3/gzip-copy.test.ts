import type { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { COPY_PART_SIZE, gzipEncodedCopy } from "../../../../lambda/jobs/db-from-s3/gzip-copy";
import type { SourceObject } from "../../../../lambda/shared/s3-objects";

/** An S3 client that records commands and answers what a copy needs. */
function fakeS3(failOn?: string) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      if (name === failOn) throw Object.assign(new Error("boom"), { name: "InternalError" });
      if (name === "CreateMultipartUploadCommand") return { UploadId: "up-1" };
      if (name === "UploadPartCopyCommand")
        return { CopyPartResult: { ETag: `"p${command.input.PartNumber}"` } };
      if (name === "CopyObjectCommand") return { CopyObjectResult: { ETag: '"copy"' } };
      if (name === "CompleteMultipartUploadCommand") return { ETag: '"copy"' };
      if (name === "HeadObjectCommand")
        return {
          ETag: '"copy"',
          LastModified: new Date(0),
          ContentLength: 1,
          ContentEncoding: "gzip",
        };
      return {};
    },
  };
  return { s3: client as unknown as S3Client, sent };
}

const source = (size: number): SourceObject => ({
  bucket: "landing",
  key: "in/a b+c.csv.gz",
  etag: '"src"',
  versionId: undefined,
  lastModified: new Date(0),
  size,
  identity: "etag",
  contentEncoding: undefined,
});

describe("gzipEncodedCopy", () => {
  it("copies in one CopyObject with Content-Encoding gzip, pinned to the source's ETag", async () => {
    const { s3, sent } = fakeS3();
    const copy = await gzipEncodedCopy(
      s3,
      source(100),
      { bucket: "tmp", prefix: "dev/j/r" },
      "1-a.csv.gz",
    );
    expect(sent[0]).toEqual({
      name: "CopyObjectCommand",
      input: {
        Bucket: "tmp",
        Key: "dev/j/r/1-a.csv.gz",
        CopySource: "landing/in/a%20b%2Bc.csv.gz",
        MetadataDirective: "REPLACE",
        ContentEncoding: "gzip",
        ContentType: "application/octet-stream",
        CopySourceIfMatch: '"src"',
      },
    });
    expect(copy.object).toMatchObject({
      bucket: "tmp",
      key: "dev/j/r/1-a.csv.gz",
      contentEncoding: "gzip",
    });
    await copy.remove();
    expect(sent.at(-1)).toEqual({
      name: "DeleteObjectCommand",
      input: { Bucket: "tmp", Key: "dev/j/r/1-a.csv.gz" },
    });
  });

  it("copies objects over 5 GB in parts, every range pinned", async () => {
    const { s3, sent } = fakeS3();
    const size = 2 * COPY_PART_SIZE + 7 + 5 * 1024 ** 3;
    await gzipEncodedCopy(s3, source(size), { bucket: "tmp", prefix: "" }, "x.gz");
    const parts = sent.filter((c) => c.name === "UploadPartCopyCommand").map((c) => c.input);
    expect(parts).toHaveLength(8);
    expect(parts[0]).toMatchObject({
      PartNumber: 1,
      CopySourceRange: `bytes=0-${COPY_PART_SIZE - 1}`,
      CopySourceIfMatch: '"src"',
      UploadId: "up-1",
    });
    expect(parts.at(-1)).toMatchObject({
      PartNumber: 8,
      CopySourceRange: `bytes=${7 * COPY_PART_SIZE}-${size - 1}`,
    });
    expect(sent.find((c) => c.name === "CreateMultipartUploadCommand")?.input).toMatchObject({
      Key: "x.gz",
      ContentEncoding: "gzip",
    });
    expect(sent.find((c) => c.name === "CompleteMultipartUploadCommand")?.input).toMatchObject({
      UploadId: "up-1",
      MultipartUpload: { Parts: expect.arrayContaining([{ PartNumber: 8, ETag: '"p8"' }]) },
    });
  });

  it("aborts the upload and removes any copy when copying fails", async () => {
    const { s3, sent } = fakeS3("UploadPartCopyCommand");
    await expect(
      gzipEncodedCopy(s3, source(6 * 1024 ** 3), { bucket: "tmp", prefix: "p" }, "x.gz"),
    ).rejects.toThrow(
      "cannot copy s3://landing/in/a b+c.csv.gz for a gzip import: InternalError: boom",
    );
    expect(sent.map((c) => c.name)).toEqual([
      "CreateMultipartUploadCommand",
      "UploadPartCopyCommand",
      "AbortMultipartUploadCommand",
      "DeleteObjectCommand",
    ]);
  });

  it("pins a versioned source by version id", async () => {
    const { s3, sent } = fakeS3();
    await gzipEncodedCopy(
      s3,
      { ...source(1), versionId: "v 1" },
      { bucket: "tmp", prefix: "" },
      "x.gz",
    );
    expect(sent[0]?.input.CopySource).toBe("landing/in/a%20b%2Bc.csv.gz?versionId=v%201");
  });
});
