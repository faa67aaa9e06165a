// A step's sent calls against its frozen plan: the same calls in the same order, parameters
// included, where a placeholder of the plan ("(the group CreateSecurityGroup returns)") stands for
// one value throughout, and that value is what an earlier call's answer in the step gave.
import { isPlaceholder, isPlaceholderFor } from "../../../services/worker/src/playbooks/kit/planned.js";
import type { Json, PlannedCall } from "../../../services/worker/src/engine/step.js";
import type { SentCall } from "./recorder.js";

export interface Compared {
  /** The sent calls as the plan writes them: each bound value put back as its placeholder. */
  sent: PlannedCall[];
  /** Placeholders bound to a value no earlier answer gave. */
  problems: string[];
}

export function compareToPlan(planned: readonly PlannedCall[], sent: readonly SentCall[]): Compared {
  const bound = new Map<string, { value: string; at: number }>();

  // Where the plan holds a placeholder and the call a string, the placeholder takes the string the
  // first time and must get the same one every time after; anything else is left as sent.
  function rewrite(actual: Json, plan: Json | undefined, at: number): Json {
    if (isPlaceholder(plan) && typeof actual === "string") {
      const seen = bound.get(plan);
      if (!seen) bound.set(plan, { value: actual, at });
      return !seen || seen.value === actual ? plan : actual;
    }
    if (Array.isArray(actual)) return actual.map((item, i) => rewrite(item, Array.isArray(plan) ? plan[i] : undefined, at));
    if (actual !== null && typeof actual === "object") {
      const planObject = plan !== null && typeof plan === "object" && !Array.isArray(plan) ? plan : undefined;
      return Object.fromEntries(Object.entries(actual).map(([key, value]) => [key, rewrite(value, planObject?.[key], at)]));
    }
    return actual;
  }

  const rewritten = sent.map((call, i): PlannedCall => {
    const params = rewrite(call.params, planned[i]?.params, i);
    return { service: call.service, operation: call.operation, params: params as PlannedCall["params"] };
  });

  const problems: string[] = [];
  for (const [placeholder, { value, at }] of bound) {
    const answered = sent
      .slice(0, at)
      .some((call) => Object.entries(call.answer ?? {}).some(([field, given]) => given === value && isPlaceholderFor(placeholder, call.operation, field)));
    if (!answered) problems.push(`${placeholder} was sent as ${value}, which no earlier answer of the step gave`);
  }
  return { sent: rewritten, problems };
}
