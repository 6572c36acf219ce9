import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalS3, startAwsStub, startS3 } from "../support/index.js";

let s3: LocalS3;

beforeAll(async () => {
  s3 = await startS3({ buckets: ["landing"] });
});

afterAll(async () => {
  await s3.stop();
});

describe("local S3 (s3rver)", () => {
  it("round-trips a 5 MB binary object byte for byte", async () => {
    const body = randomBytes(5 * 1024 * 1024);
    await s3.put("landing", "big/blob.bin", body);
    const res = await s3
      .client()
      .send(new GetObjectCommand({ Bucket: "landing", Key: "big/blob.bin" }));
    const back = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
    expect(back.length).toBe(body.length);
    expect(back.equals(body)).toBe(true);
  });

  it("stores keys with spaces and unicode and lists them back unchanged", async () => {
    const keys = ["dir with space/file one.csv", "données/été ☃ 2024.csv", "a+b=c&d.csv"];
    for (const key of keys) await s3.put("landing", key, `content of ${key}`);
    for (const key of keys)
      expect((await s3.get("landing", key)).toString()).toBe(`content of ${key}`);
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: "landing" }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(expect.arrayContaining(keys));
  });

  it("keeps the Content-Encoding given to put", async () => {
    await s3.put("landing", "gz/data.csv.gz", Buffer.from([0x1f, 0x8b]), {
      contentEncoding: "gzip",
    });
    const res = await s3
      .client()
      .send(new GetObjectCommand({ Bucket: "landing", Key: "gz/data.csv.gz" }));
    expect(res.ContentEncoding).toBe("gzip");
  });

  it("creates buckets after start", async () => {
    await s3.createBucket("later");
    await s3.put("later", "k", "v");
    expect((await s3.get("later", "k")).toString()).toBe("v");
  });

  it("serves a default S3Client built only from env(), also merged with the AWS stub's env", async () => {
    const stub = await startAwsStub();
    try {
      for (const env of [
        s3.env(),
        { ...s3.env(), ...stub.env() },
        { ...stub.env(), ...s3.env() },
      ]) {
        for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
        const client = new S3Client({});
        const res = await client
          .send(new GetObjectCommand({ Bucket: "landing", Key: "later-missing" }))
          .catch((e: unknown) => e);
        expect(res).toMatchObject({ name: "NoSuchKey" });
        client.destroy();
      }
    } finally {
      await stub.stop();
    }
  });

  it("refuses an unknown access key id", async () => {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" },
    });
    await expect(
      client.send(new ListObjectsV2Command({ Bucket: "landing" })),
    ).rejects.toMatchObject({
      name: "InvalidAccessKeyId",
    });
  });

  it("removes its directory on stop and tolerates a second stop", async () => {
    const other = await startS3();
    expect(existsSync(other.directory)).toBe(true);
    await other.stop();
    await other.stop();
    expect(existsSync(other.directory)).toBe(false);
  });
});
