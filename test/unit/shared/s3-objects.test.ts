import { describe, expect, it } from "vitest";
import { parseS3Location } from "../../../lambda/shared/s3-objects";

describe("parseS3Location", () => {
  it("splits bucket and prefix, without a trailing slash", () => {
    expect(parseS3Location("s3://tmp-bucket/dev/tmp/")).toEqual({
      bucket: "tmp-bucket",
      prefix: "dev/tmp",
    });
    expect(parseS3Location("s3://tmp-bucket")).toEqual({ bucket: "tmp-bucket", prefix: "" });
    expect(() => parseS3Location("tmp/x")).toThrow("not an S3 location: tmp/x");
  });
});
