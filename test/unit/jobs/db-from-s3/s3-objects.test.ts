import { describe, expect, it } from "vitest";
import { parseManifest } from "../../../../lambda/jobs/db-from-s3/s3-objects";
import { objectIdentity, s3Url } from "../../../../lambda/shared/s3-objects";

describe("objectIdentity", () => {
  const when = new Date("2026-01-02T03:04:05Z");

  it("is the version id where the bucket is versioned", () => {
    expect(objectIdentity('"abc"', when, "v123")).toBe("version:v123");
  });

  it("is ETag plus Last-Modified otherwise (S3 says version null for unversioned buckets)", () => {
    expect(objectIdentity('"abc"', when, undefined)).toBe('etag:"abc"@2026-01-02T03:04:05.000Z');
    expect(objectIdentity('"abc"', when, "null")).toBe('etag:"abc"@2026-01-02T03:04:05.000Z');
  });
});

describe("parseManifest", () => {
  it("reads Redshift-style entries; only an explicit mandatory: false may be missing (lava loads every entry)", () => {
    const text = JSON.stringify({
      entries: [
        { url: "s3://b/k/1.csv", mandatory: true },
        { url: "s3://b2/k 2.csv" },
        { url: "s3://b2/k3.csv", mandatory: false },
      ],
    });
    expect(parseManifest(text, "s3://b/m")).toEqual([
      { bucket: "b", key: "k/1.csv", mandatory: true },
      { bucket: "b2", key: "k 2.csv", mandatory: true },
      { bucket: "b2", key: "k3.csv", mandatory: false },
    ]);
  });

  it.each([
    ["not json", /^s3:\/\/b\/m: manifest is not JSON: /],
    ["{}", /^s3:\/\/b\/m: manifest has no "entries" list$/],
    [
      '{"entries":[{"url":"https://x"}]}',
      /^s3:\/\/b\/m: entries\[0\]\.url: expected s3:\/\/bucket\/key, got "https:\/\/x"$/,
    ],
    [
      '{"entries":[{"url":"s3://b/k","mandatory":"yes"}]}',
      /^s3:\/\/b\/m: entries\[0\]\.mandatory: expected true or false$/,
    ],
  ])("refuses %s naming the manifest", (text, message) => {
    expect(() => parseManifest(text, "s3://b/m")).toThrow(message);
  });
});

describe("s3Url", () => {
  it("joins bucket and key", () => {
    expect(s3Url("b", "a/b c.csv")).toBe("s3://b/a/b c.csv");
  });
});
