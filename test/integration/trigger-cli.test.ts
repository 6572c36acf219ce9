/** `lava-aurora trigger`: dry runs on the example realm, and dispatch against the Step Functions stub. */
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { useAwsStub } from "../support/use-aws-stub";

const aws = useAwsStub();

/** `lava-aurora trigger <url> --realm example --dry-run [extra…]`. */
const dryRun = (url: string, ...extra: string[]) =>
  runCli(["trigger", url, "--realm", "example", "--dry-run", ...extra]);

describe("lava-aurora trigger --dry-run", () => {
  it("prints the dispatches for an object of the example realm, without AWS", async () => {
    const r = await runCli(
      [
        "trigger",
        "s3://example-landing/sales/orders/20260102.csv.gz",
        "--realm",
        "example",
        "--dry-run",
      ],
      {
        env: {
          AWS_ENDPOINT_URL_SSM: "http://127.0.0.1:1",
          AWS_ENDPOINT_URL_SFN: "http://127.0.0.1:1",
        },
      },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        trigger_id: "orders-landed",
        job_id: "sales/load-orders",
        parameters: { key: "sales/orders/20260102.csv.gz" },
        literal_parameters: ["key"],
        globals: {},
        delay: 0,
      },
    ]);
  });

  it("prints [] when nothing matches, and honours conditions", async () => {
    const r = await dryRun("s3://example-landing/sales/orders/20260102.txt");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const small = await dryRun("s3://example-partner-drop/drops/x.csv", "--size", "0");
    expect(JSON.parse(small.stdout)).toEqual([]);
    const big = await dryRun("s3://example-partner-drop/drops/x.csv", "--size", "1KB");
    expect(JSON.parse(big.stdout).map((d: { job_id: string }) => d.job_id)).toEqual([
      "partner/load-drop",
    ]);
  });

  it("takes --event-type as S3 notifications name it: deletions dispatch nothing to a trigger that does not name them", async () => {
    const url = "s3://example-landing/sales/orders/20260102.csv.gz";
    const jobsFor = async (type: string) => {
      const r = await dryRun(url, "--event-type", type);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).map((d: { job_id: string }) => d.job_id);
    };
    expect(await jobsFor("ObjectCreated:Put")).toEqual(["sales/load-orders"]);
    expect(await jobsFor("ObjectCreated:CompleteMultipartUpload")).toEqual(["sales/load-orders"]);
    expect(await jobsFor("ObjectRemoved:Delete")).toEqual([]);
    expect(await jobsFor("LifecycleExpiration:DeleteMarkerCreated")).toEqual([]);
    const bad = await dryRun(url, "--event-type", "ObjectCreated:PutObject");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--event-type: .*ObjectCreated:Put/);
  });

  it("reads a raw event in any envelope from a file or stdin", async () => {
    const s3Event = {
      Records: [
        {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          awsRegion: "ap-southeast-2",
          eventTime: "2026-01-02T03:04:05.000Z",
          eventName: "ObjectCreated:Put",
          s3: {
            bucket: { name: "example-landing" },
            object: {
              key: "sales/orders/2026+01+02.csv.gz",
              size: 10,
              eTag: "abc",
              sequencer: "0A1B",
            },
          },
        },
      ],
    };
    const r = await runCli(["trigger", "--event", "-", "--realm", "example", "--dry-run"], {
      input: JSON.stringify(s3Event),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0].parameters).toEqual({ key: "sales/orders/2026 01 02.csv.gz" });
  });

  it("refuses bad usage with exit 2", async () => {
    expect((await runCli(["trigger", "--realm", "example", "--dry-run"])).code).toBe(2);
    expect((await runCli(["trigger", "landing/x", "--realm", "example", "--dry-run"])).code).toBe(
      2,
    );
    expect(
      (await runCli(["trigger", "s3://b/k", "--realm", "example", "--dry-run", "--local"])).code,
    ).toBe(2);
    expect(
      (await runCli(["trigger", "s3://b/k", "--realm", "example", "--dry-run", "--size", "huge"]))
        .code,
    ).toBe(2);
  });
});

describe("lava-aurora trigger (deployed realm)", () => {
  it("starts one execution per dispatch, and reports a second start of the same object as a duplicate", async () => {
    aws.setParameter(
      "/lava/example/state-machine-arn",
      "arn:aws:states:us-east-1:123456789012:stateMachine:lava-example-jobs",
    );
    aws.states.executions.clear();
    // Finished by the time the duplicate arrives: AWS then answers ExecutionAlreadyExists.
    aws.states.onStart = (e) => {
      e.status = "SUCCEEDED";
    };
    const event = JSON.stringify({
      "detail-type": "Object Created",
      source: "aws.s3",
      time: "2026-01-02T03:04:05Z",
      detail: {
        bucket: { name: "example-landing" },
        object: { key: "sales/orders/a.csv.gz", size: 5, etag: "e1", sequencer: "01" },
        reason: "PutObject",
      },
    });
    const first = await runCli(["trigger", "--event", "-", "--realm", "example"], {
      env: aws.env(),
      input: event,
    });
    const again = await runCli(["trigger", "--event", "-", "--realm", "example"], {
      env: aws.env(),
      input: event,
    });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual([
      {
        trigger_id: "orders-landed",
        job_id: "sales/load-orders",
        execution_arn: expect.stringContaining(":execution:lava-example-jobs:sales-load-orders-"),
        duplicate: false,
      },
    ]);
    expect(JSON.parse(again.stdout)[0]).toMatchObject({
      duplicate: true,
      execution_arn: JSON.parse(first.stdout)[0].execution_arn,
    });
    expect(JSON.parse([...aws.states.executions.values()][0]?.input ?? "")).toEqual({
      job_id: "sales/load-orders",
      parameters: { key: "sales/orders/a.csv.gz" },
      globals: {},
      literal_parameters: ["key"],
      delay: 0,
      event_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });
});
