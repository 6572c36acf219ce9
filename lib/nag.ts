/** Specific cdk-nag acknowledgements: one finding at a time, each with its reason. */
import { type Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/** A value as cdk-nag prints it in finding ids: `Ref` → `<X>`, `Fn::GetAtt` → `<A.B>`, joins flattened. */
export function nagNotation(stack: Stack, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === "string") return v;
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.Ref === "string") return `<${o.Ref}>`;
      if (Array.isArray(o["Fn::GetAtt"])) return `<${(o["Fn::GetAtt"] as string[]).join(".")}>`;
      const join = o["Fn::Join"] as [string, unknown[]] | undefined;
      if (Array.isArray(join)) return join[1].map(render).join(join[0]);
    }
    return JSON.stringify(v);
  };
  return render(stack.resolve(value));
}

/** Acknowledge one IAM5 wildcard-resource finding on `scope`. */
export function acknowledgeWildcard(
  scope: IConstruct,
  stack: Stack,
  resource: string,
  reason: string,
): void {
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagNotation(stack, resource)}]`,
    reason,
  });
}

/** Acknowledge one AwsSolutions finding (`AwsSolutions-SQS3`, `AwsSolutions-IAM5[Resource::…]`) on `scope` and below. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  // cdk-nag matches whole rules as "<pack>::<rule>" but granular findings by their bare
  // id ("::" inside the brackets would be misread as a plugin namespace).
  Validations.of(scope).acknowledge({ id: id.includes("[") ? id : `AwsSolutions::${id}`, reason });
}
