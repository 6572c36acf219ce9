/** CDK app entry (`cdk.json`): one stack for the realm given by `-c realm=<name>`. */
import { SpecError } from "../lambda/shared/errors";
import { buildApp } from "../lib/app";

try {
  const { app } = await buildApp();
  app.synth();
} catch (err) {
  if (!(err instanceof SpecError)) throw err;
  for (const p of err.problems) process.stderr.write(`${p}\n`);
  process.exit(2);
}
