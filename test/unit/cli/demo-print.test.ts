/** The demo's terminal output: colour only on a terminal without NO_COLOR, wrapping, tables. */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Printer, useColour, wrap } from "../../../bin/cli/demo/print";

function printer(colour = false) {
  const out = new PassThrough();
  let text = "";
  out.on("data", (d) => {
    text += d;
  });
  return { print: new Printer(out, colour, 60), text: () => text };
}

describe("useColour", () => {
  it("colours a terminal unless NO_COLOR is set to something", () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({}, {})).toBe(false);
  });
});

describe("wrap", () => {
  it("keeps the leading indent and hangs continuation lines", () => {
    expect(wrap("    ✓ one two three four", 16, "      ")).toEqual([
      "    ✓ one two",
      "      three four",
    ]);
  });

  it("never breaks a word that is longer than the line", () => {
    expect(wrap("  s3://bucket/a/very/long/key.csv x", 10, "    ")).toEqual([
      "  s3://bucket/a/very/long/key.csv",
      "    x",
    ]);
  });
});

describe("Printer", () => {
  it("numbers steps, marks checks and counts the failed ones", () => {
    const { print, text } = printer();
    print.step("First");
    print.check(true, "held");
    print.step("Second");
    print.check(false, "did not");
    expect(text()).toBe("\n1.  First\n    ✓ held\n\n2.  Second\n    ✗ did not\n");
    expect({ checks: print.checks, failures: print.failures }).toEqual({ checks: 2, failures: 1 });
  });

  it("aligns table columns by characters, accents included, and shows NULL", () => {
    const { print, text } = printer();
    print.table({
      name: "club.members",
      columns: ["id", "name"],
      rows: [
        ["1", "Desmond Brûlée"],
        ["10", null],
      ],
    });
    expect(text()).toBe(
      "      club.members: 2 rows\n        id  name\n        1   Desmond Brûlée\n        10  NULL\n",
    );
  });

  it("shows an empty table as one line", () => {
    const { print, text } = printer();
    print.table({ name: "club.members_b", columns: ["id"], rows: [] });
    expect(text()).toBe("      club.members_b: empty\n");
  });

  it("colours marks after wrapping when asked to", () => {
    const { print, text } = printer(true);
    print.check(true, "held");
    expect(text()).toBe("    \x1b[32m✓\x1b[39m held\n");
  });

  it("writes nothing once muted", () => {
    const { print, text } = printer();
    print.mute();
    print.step("Ignored");
    print.check(true, "ignored");
    expect(text()).toBe("");
  });
});
