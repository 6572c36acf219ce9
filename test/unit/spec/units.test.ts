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

  // lava/lib/datetime.py duration_to_seconds: units w, d, h, m, s or none, fractions, `.5`.
  it.each([
    ["1d", 86_400_000],
    ["2w", 14 * 86_400_000],
    ["1.5h", 5_400_000],
    [".5m", 30_000],
    ["10 s", 10_000],
    ["1e2s", 100_000],
    [2.5, 2_500],
  ])("reads lava's %j as %d ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ["5x"],
    ["-1s"],
    ["m"],
    [""],
    ["."],
    ["1y"],
    ["1ms"],
    [null],
    [true],
    [-3],
    [Number.NaN],
  ])("refuses %j", (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
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

  // lava/lib/misc.py size_to_bytes: K, M, G, T, P are decimal like KB…PB (K = 1000), KiB…PiB binary.
  it.each([
    ["1K", 1000],
    ["20K", 20_000],
    ["2M", 2_000_000],
    ["1M", 1_000_000],
    ["1G", 1e9],
    ["1T", 1e12],
    ["1TB", 1e12],
    ["1P", 1e15],
    ["1PB", 1e15],
    ["1TiB", 1024 ** 4],
    ["1PiB", 1024 ** 5],
    ["1.5K", 1500],
    [".5K", 500],
    ["1e3K", 1_000_000],
    [" 20 K ", 20_000],
  ])("reads lava's %j as %d bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([["10 XB"], ["ten"], ["-5"], [""], ["K"], ["1KK"], [{}], [true]])(
    "refuses %j",
    (input) => {
      expect(parseSize(input)).toBeUndefined();
    },
  );
});
