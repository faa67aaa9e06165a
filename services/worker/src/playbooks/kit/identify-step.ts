// The identify step of a playbook that acts on a live resource: it reads the resource and what
// surrounds it once, before anything changes, and keeps that as the pre-state release goes back
// to. Taken once: a re-run after containment must not record the contained state as the state to
// restore. The exemption tag read from the live resource never means "do nothing": whatever runs
// on a compromised workload with its role may be able to tag it, so the tag turns automatic
// containment into an approval request, with the reason in the plan and the notification.
import type { Json, JsonObject, Step, StepContext } from "../../engine/step.js";
import type { z } from "zod";

export interface IdentifyStepSpec {
  name: string;
  /** What the resource is called in the hold reason ("instance", "task"). */
  what: string;
  output: z.ZodType<Json>;
  /** Refuses a malformed record rather than building on it. */
  parse(recorded: Json): unknown;
  /** Reads the live resource; its output carries `exemptTag: { key, value }` when the live resource has the tag. */
  collect(ctx: StepContext): Promise<Json>;
}

export function identifyStep(spec: IdentifyStepSpec): Step {
  return {
    name: spec.name,
    destructive: false,
    // Only reads: it runs before an approval plan is frozen, so the plan is built from live state.
    readOnly: true,
    output: spec.output,

    check(ctx) {
      const previous = ctx.outputs.get(spec.name);
      if (previous === undefined) return Promise.resolve({ done: false });
      spec.parse(previous);
      return Promise.resolve({ done: true, output: previous });
    },

    act(ctx) {
      return spec.collect(ctx);
    },

    async verify() {
      // Nothing changed in AWS: act only read.
    },

    holdFor(output) {
      const tag = exemptTagOf(output);
      return tag === null
        ? null
        : `the live ${spec.what} carries the exemption tag ${tag.key}=${tag.value}; a workload can tag itself, so containment waits for a person instead of being skipped`;
    },
  };
}

function exemptTagOf(output: Json): { key: string; value: string } | null {
  const recorded = isObject(output) ? output["exemptTag"] : undefined;
  if (!isObject(recorded)) return null;
  const { key, value } = recorded;
  return typeof key === "string" && typeof value === "string" ? { key, value } : null;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
