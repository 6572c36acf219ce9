/**
 * The reference in docs/ stays true where that is mechanical: every section a
 * code comment (or a page) cites exists, every error name of ERROR_HANDLING is
 * documented with its kind, every job parameter of the schemas is in its
 * page's table, and every realm example validates.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ERROR_HANDLING } from "../../lambda/shared/errors";
import {
  dbFromS3ParamsSchema,
  pkgParamsSchema,
  sqlcParamsSchema,
  sqlParamsSchema,
  sqlvParamsSchema,
} from "../../lambda/spec/job";
import { validateRealm } from "../../lambda/spec/validate";
import { REPO } from "../support/cli";

const DOCS = join(REPO, "docs");
const pages = new Map(
  readdirSync(DOCS)
    .filter((f) => f.endsWith(".md"))
    .map((f) => [f, readFileSync(join(DOCS, f), "utf8")] as const),
);
const page = (name: string) => pages.get(name) ?? "";

/** Section numbers of a page's `##`/`###` headings: `## 8.1 Aurora` → `8.1`. */
const sections = (text: string) =>
  new Set([...text.matchAll(/^#{2,3} (\d+(?:\.\d+)?) /gm)].map((m) => m[1]));

/** Fenced blocks: info string and body (as test/docs/readme.test.ts reads them). */
const blocks = (text: string) =>
  [...text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    info: (m[1] ?? "").trim(),
    body: m[2] ?? "",
  }));

/** Code files whose comments cite the reference. */
function codeFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.(ts|js|mjs|Dockerfile)$|Dockerfile$/.test(f) && !f.includes("node_modules"))
    .map((f) => join(dir, f));
}

/** Each cited section, `page §N` with lists (`§1, §5`) and ranges (`§4-§6`) split. */
function citations(text: string): { page: string; section: string }[] {
  const out: { page: string; section: string }[] = [];
  const cite = /docs\/([a-z-]+\.md)((?:(?:, | and |-| )§\d+(?:\.\d+)?)*)/g;
  for (const m of text.matchAll(cite)) {
    for (const s of (m[2] ?? "").matchAll(/§(\d+(?:\.\d+)?)/g))
      out.push({ page: m[1] ?? "", section: s[1] ?? "" });
    if (!m[2]) out.push({ page: m[1] ?? "", section: "" });
  }
  return out;
}

describe("docs/ reference", () => {
  it("has the index and numbered pages", () => {
    expect([...pages.keys()]).toContain("README.md");
    for (const [name, text] of pages) {
      if (name === "README.md") continue;
      expect(sections(text).size, name).toBeGreaterThan(3);
    }
  });

  it("has every page and section code comments cite", () => {
    const files = ["lambda", "lib", "bin", "test", "scripts"].flatMap(codeFiles);
    const cited = files.flatMap((f) =>
      citations(readFileSync(join(REPO, f), "utf8")).map((c) => ({ ...c, file: f })),
    );
    expect(cited.length).toBeGreaterThan(50);
    for (const { page: name, section, file } of cited) {
      expect(pages.has(name), `${file}: docs/${name}`).toBe(true);
      if (section)
        expect([...sections(page(name))], `${file}: docs/${name} §${section}`).toContain(section);
    }
  });

  it("has every page and section its pages link to", () => {
    for (const [from, text] of pages) {
      for (const m of text.matchAll(/\[[^\]]*?§(\d+(?:\.\d+)?)\]\(([a-z-]+\.md)\)/g)) {
        const [, section = "", to = ""] = m;
        expect(pages.has(to), `${from}: ${to}`).toBe(true);
        expect([...sections(page(to))], `${from}: ${to} §${section}`).toContain(section);
      }
    }
  });

  it("documents every error name of ERROR_HANDLING with its kind", () => {
    const text = page("state-machine.md");
    for (const [name, kind] of Object.entries(ERROR_HANDLING))
      expect(text, name).toContain(`| \`${name}\` | ${kind} |`);
  });

  it("lists every db_from_s3 parameter in its table", () => {
    const text = page("db-from-s3.md");
    for (const name of Object.keys(dbFromS3ParamsSchema.shape))
      expect(text, name).toContain(`| \`${name}\` |`);
  });

  it("lists every exe and pkg parameter in its table", () => {
    const text = page("exe-pkg.md");
    for (const name of Object.keys(pkgParamsSchema.shape))
      expect(text, name).toContain(`| \`${name}\` |`);
  });

  it("lists every sql, sqli, sqlc and sqlv parameter in its tables", () => {
    const text = page("sql-jobs.md");
    for (const schema of [sqlParamsSchema, sqlvParamsSchema, sqlcParamsSchema])
      for (const name of Object.keys(schema.shape)) expect(text, name).toContain(`| \`${name}\` |`);
  });

  it("shows realm files that validate", () => {
    const realms = [...pages].flatMap(([name, text]) =>
      blocks(text)
        .filter((b) => b.info === "yaml" && /^realm: /m.test(b.body))
        .map((b) => ({ name, body: b.body })),
    );
    expect(realms.length).toBeGreaterThan(0);
    for (const { name, body } of realms)
      expect(validateRealm(parse(body), `docs/${name}`).name).toMatch(/^[a-z0-9-]+$/);
  });
});
