import { describe, expect, it } from "vitest";
import { z } from "zod";
import { planSlice } from "../plan.js";
import type { Step } from "../step.js";

function step(name: string, destructive = false): Step {
  return { name, destructive, output: z.null(), check: () => Promise.resolve({ done: false }), act: () => Promise.resolve(null), verify: () => Promise.resolve() };
}

const steps = [step("identify"), step("isolate"), step("snapshot"), step("terminate", true), step("tag-after")];
const names = (list: readonly Step[]): string[] => list.map((s) => s.name);

describe("planSlice: what one approval may cover", () => {
  it("stops a containment plan before the first destructive step", () => {
    expect(names(planSlice(steps, 1))).toEqual(["isolate", "snapshot"]);
  });

  it("gives a destructive step a plan of its own", () => {
    expect(names(planSlice(steps, 3))).toEqual(["terminate"]);
  });

  it("takes the rest when nothing destructive follows (a release)", () => {
    expect(names(planSlice(steps, 4))).toEqual(["tag-after"]);
    expect(names(planSlice([step("restore"), step("tag")], 0))).toEqual(["restore", "tag"]);
  });
});
