import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../../../../lambda/jobs/exe/command-line";
import { SpecError } from "../../../../lambda/shared/errors";

const problems = (line: string): string[] => {
  try {
    parseCommandLine(line, "job j: payload");
  } catch (err) {
    if (err instanceof SpecError) return [...err.problems];
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(line)}`);
};

describe("parseCommandLine", () => {
  it("splits words like a shell: quotes, backslashes, ANSI-C strings", () => {
    expect(parseCommandLine(`run.sh a 'b c' "d e" f\\ g '' $'t\\tu'`, "p")).toEqual([
      "run.sh",
      "a",
      "b c",
      "d e",
      "f g",
      "",
      "t\tu",
    ]);
  });

  it("keeps quoted shell characters literally", () => {
    expect(parseCommandLine(`x.sh '*.csv' '$HOME' "a|b" \\$X '#1'`, "p")).toEqual([
      "x.sh",
      "*.csv",
      "$HOME",
      "a|b",
      "$X",
      "#1",
    ]);
  });

  it.each([
    ["x.sh | tee", "the operator |"],
    ["x.sh; rm -rf /", "the operator ;"],
    ["x.sh &", "the operator &"],
    ["x.sh > out", "the operator >"],
    ["x.sh 2>&1", "the operator >&"],
    ["x.sh && y", "the operator &&"],
    ["x.sh *.csv", "the glob *.csv"],
    ["x.sh $HOME", "the variable $HOME"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell line, not a template
    ['x.sh "${HOME}/x"', "the variable $HOME"],
    ["x.sh # note", "a # comment"],
  ])("refuses %s (%s), naming the field", (line, what) => {
    const [problem] = problems(line);
    expect(problem).toContain("job j: payload: ");
    expect(problem).toContain(`${what} is not allowed`);
  });

  it("refuses empty lines and an empty first word", () => {
    expect(problems("")).toEqual(['job j: payload: expected a command line, got ""']);
    expect(problems("   ")[0]).toContain("expected a command line");
    expect(problems("'' a")[0]).toContain("expected a command line");
  });

  it("refuses an unterminated substitution with a SpecError", () => {
    expect(problems("x.sh ${")[0]).toMatch(/^job j: payload: /);
  });
});
