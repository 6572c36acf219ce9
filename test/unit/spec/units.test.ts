import { describe, expect, it } from "vitest";
import { parseDuration, parseSize } from "../../../lambda/spec/units";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["45", 45_000],
    [" 1.5M ", 90_000],
    [12, 12_000],
    ["0s", 0],
  ])("reads %j as %d ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([["5x"], ["-1s"], ["m"], [""], [null], [true], [-3], [Number.NaN]])(
    "refuses %j",
    (input) => {
      expect(parseDuration(input)).toBeUndefined();
    },
  );
});

describe("parseSize", () => {
  it.each([
    ["100", 100],
    ["10KB", 10_000],
    ["10kb", 10_000],
    ["1MiB", 1_048_576],
    ["2 GB", 2_000_000_000],
    ["3GiB", 3 * 1024 ** 3],
    ["7B", 7],
    ["1.5KiB", 1536],
    [2048, 2048],
  ])("reads %j as %d bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([["10 TB"], ["ten"], ["-5"], [""], [{}]])("refuses %j", (input) => {
    expect(parseSize(input)).toBeUndefined();
  });
});
