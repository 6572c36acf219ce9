import { describe, expect, it } from "vitest";
import { JOB_TEMPLATE_NAMES, templateProblems } from "../../../../lambda/shared/templating/check";
import { specTemplateProblems } from "../../../../lambda/shared/templating/spec-templates";
import { validateRealm } from "../../../../lambda/spec/validate";

const scope = {
  names: JOB_TEMPLATE_NAMES,
  realmKeys: ["realm", "s3_temp"],
  jobKeys: ["job_id", "parameters", "run_id"],
  varsKeys: ["level"],
};
const problems = (source: string) => templateProblems(source, scope);

describe("templateProblems", () => {
  it("accepts lava's variables, utils, realm keys, bound names and guarded names", () => {
    expect(
      problems(
        "{{ realm.realm }}{{ realm['s3_temp'] }}{{ job.run_id }}{{ vars.level }}{{ utils.dateutil.relativedelta }}" +
          "{% set x = 1 %}{{ x }}{% for k, v in globals.items() %}{{ k }}{{ loop.index }}{% endfor %}" +
          "{{ nope | default('d') }}{% if other is defined %}{{ other }}{% endif %}{{ vars.get('zz') }}{{ range(2) }}",
      ),
    ).toEqual([]);
  });

  it("reports state, unknown names, utils, realm, job and vars keys, each once", () => {
    expect(
      problems(
        "{{ state.sid }}{{ x }}{{ x }}{{ utils.nosuch() }}{{ realm.nosuch }}{{ job.state.a }}{{ vars.other }}",
      ),
    ).toEqual([
      "template uses state: lava's state items (its state manager) do not exist here, so it would fail",
      "template uses 'x', which is not defined here (defined: globals, job, realm, start, ustart, utils, vars)",
      "template uses utils.nosuch, but lava's utils has no 'nosuch' (it has: basename, date, datetime, dateutil, dirname, now, parsedate, path, re, s3bucket, s3key, splitext, time, timedelta, urlquote, urlunquote, utcnow, uuid)",
      "template uses realm.nosuch, but the realm has no 'nosuch' (it has: realm, s3_temp)",
      "template uses job.state: lava's state items (its state manager) do not exist here, so it would fail",
      "template uses vars.other, but vars has no 'other' (it has: level)",
    ]);
  });

  it("reports syntax errors and unknown filters as Jinja2 raises them", () => {
    expect(problems("{{ a( }}")).toEqual([
      "template error: TemplateSyntaxError: unexpected '}', expected ')' (line 1)",
    ]);
    expect(problems("{{ 1 | nosuch }}")).toEqual([
      "template error: TemplateAssertionError: No filter named 'nosuch'.",
    ]);
  });
});

describe("specTemplateProblems", () => {
  it("checks a job's enabled and its type's templated parameters, with vars known per job", () => {
    const job = {
      job_id: "j",
      type: "exe",
      enabled: "{{ vars.on }}",
      payload: "run.sh {{ vars.level }} {{ nope }}",
      parameters: {
        vars: { level: "info" },
        args: ["{{ vars.level }}", "{{ state }}"],
        env: { A: "{{ key }}" },
      },
    };
    expect(specTemplateProblems("job", job, ["realm"])).toEqual([
      "enabled: template uses vars.on, but vars has no 'on' (it has: nothing)",
      "parameters.args[1]: template uses state: lava's state items (its state manager) do not exist here, so it would fail",
      "payload: template uses 'nope', which is not defined here (defined: bucket, event, globals, info, job, key, realm, start, ustart, utils, vars)",
    ]);
  });

  it("checks an sqli payload statement by statement, as lava renders it after the split", () => {
    const job = {
      job_id: "m",
      type: "sqli",
      enabled: true,
      payload: [
        "DELETE FROM t WHERE d = '{{ vars.day }}';\nINSERT INTO t SELECT * FROM s WHERE x = {{ nope }}",
        "{% if vars.day %}DELETE FROM a; DELETE FROM b;{% endif %}",
      ],
      parameters: { conn_id: "pg", vars: { day: "2026-01-01" } },
    };
    expect(specTemplateProblems("job", job, ["realm"])).toEqual([
      "payload[0] statement 1 (line 2): template uses 'nope', which is not defined here (defined: bucket, event, globals, info, job, key, realm, start, ustart, utils, vars)",
      "payload[1] statement 0 (line 1): template error: TemplateSyntaxError: Unexpected end of template. Expected one of elif, else, endif (line 1)",
      "payload[1] statement 2 (line 1): template error: TemplateSyntaxError: Encountered unknown tag 'endif'. (line 1)",
    ]);
    expect(specTemplateProblems("job", { ...job, parameters: { jinja: false } }, [])).toEqual([]);
    expect(
      specTemplateProblems("job", { ...job, parameters: { ...job.parameters, raw: true } }, []),
    ).toHaveLength(1);
  });

  it("checks a trigger's job_id, parameters and globals with the trigger's variables, unless jinja is false", () => {
    const trigger = {
      trigger_id: "t",
      job_id: ["{{ job.job_id }}"],
      parameters: { k: "{{ key }}" },
      globals: { g: ["{{ start }}"] },
    };
    expect(specTemplateProblems("trigger", trigger, ["realm"])).toEqual([
      "job_id[0]: template uses 'job', which is not defined here (defined: bucket, event, info, key, realm, utils)",
      "globals.g[0]: template uses 'start', which is not defined here (defined: bucket, event, info, key, realm, utils)",
    ]);
    expect(specTemplateProblems("trigger", { ...trigger, jinja: false }, ["realm"])).toEqual([]);
  });
});

describe("validateRealm with templates", () => {
  const doc = (args: string[]) => ({
    realm: "dev",
    jobs: [{ job_id: "j", type: "exe", enabled: true, payload: "run.sh", parameters: { args } }],
  });

  it("fails a template naming state, with a clear message", () => {
    expect(() => validateRealm(doc(["{{ state.sid }}"]), "realms/dev.yaml")).toThrow(
      "realms/dev.yaml: job j: parameters.args[0]: template uses state: lava's state items (its state manager) do not exist here, so it would fail",
    );
  });

  it("warns about other names the field lacks", () => {
    const realm = validateRealm(doc(["{{ utils.nosuch }}", "{{ nope }}"]), "realms/dev.yaml");
    expect(realm.warnings.filter((w) => w.includes("template uses"))).toEqual([
      expect.stringMatching(
        /^realms\/dev\.yaml: job j: parameters\.args\[0\]: template uses utils\.nosuch, /,
      ),
      expect.stringMatching(
        /^realms\/dev\.yaml: job j: parameters\.args\[1\]: template uses 'nope', /,
      ),
    ]);
  });
});
