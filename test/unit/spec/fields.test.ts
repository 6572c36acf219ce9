import { describe, expect, it } from "vitest";
import { lavaBool } from "../../../lambda/spec/fields";

describe("lavaBool", () => {
  // lava/lib/misc.py str2bool: case-insensitive, stripped; an integer string is its truth value.
  it.each([
    [true, true],
    [false, false],
    ["true", true],
    ["false", false],
    [" TRUE ", true],
    ["False", false],
    ["t", true],
    ["F", false],
    ["yes", true],
    ["No", false],
    ["y", true],
    ["n", false],
    ["1", true],
    ["0", false],
    ["-2", true],
    ["+0", false],
  ])("reads %j as %j, as lava's str2bool does", (input, value) => {
    // Act
    const parsed = lavaBool().safeParse(input);
    // Assess
    expect(parsed).toEqual({ success: true, data: value });
  });

  it.each([["maybe"], [""], ["1.0"], ["on"], [1], [0], [null], [[]]])(
    "refuses %j with the boolean message",
    (input) => {
      const parsed = lavaBool().safeParse(input);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe("expected true or false");
    },
  );
});
