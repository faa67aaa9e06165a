// What each playbook acts on for a finding, and the runtime context the image rule reads.
import { describe, expect, it } from "vitest";
import { deleteIn, ecsFinding, instanceFinding, setIn } from "@gdr/samples/findings";
import { expectFinding, parseDetail } from "@gdr/samples/parse-helpers";
import { imagesOf, targetKeyOf } from "./targets.js";

const ECR_IMAGE = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/payments-api:1\.8\.2$/;

describe("targetKeyOf", () => {
  it("is the finding's resource key for every playbook but the image one", () => {
    const task = expectFinding(parseDetail(ecsFinding()));
    expect(targetKeyOf(task, "ecs-task")).toEqual({ ok: true, key: task.resourceKey });
    const instance = expectFinding(parseDetail(instanceFinding()));
    expect(targetKeyOf(instance, "instance")).toEqual({ ok: true, key: instance.resourceKey });
  });

  it("is the one image the task runs, as the finding names it", () => {
    const task = expectFinding(parseDetail(ecsFinding()));
    const target = targetKeyOf(task, "container-image");
    expect(target.ok && target.key).toMatch(ECR_IMAGE);
  });

  it("is refused when the task runs several images or none", () => {
    const detail = ecsFinding();
    const two = setIn(detail, ["resource", "ecsClusterDetails", "taskDetails", "containers", 1], { name: "sidecar", image: "public.ecr.aws/nginx/nginx:1.27" });
    const task = expectFinding(parseDetail(two));
    expect(imagesOf(task)).toHaveLength(2);
    expect(targetKeyOf(task, "container-image")).toMatchObject({ ok: false, reason: expect.stringMatching(/runs 2 images .* does not say which one/) as unknown });
    const none = expectFinding(parseDetail(setIn(detail, ["resource", "ecsClusterDetails", "taskDetails", "containers"], [])));
    expect(targetKeyOf(none, "container-image")).toEqual({ ok: false, reason: "the finding names no container image" });
  });
});

describe("runtime context", () => {
  it("says whether GuardDuty named a process that created or modified the file", () => {
    const base = ecsFinding();
    expect(expectFinding(parseDetail(base)).runtime).toEqual({ modifyingProcess: false });
    const modified = setIn(base, ["service", "runtimeDetails", "context", "modifyingProcess"], { name: "curl", executablePath: "/usr/bin/curl" });
    expect(expectFinding(parseDetail(modified)).runtime).toEqual({ modifyingProcess: true });
    const noRuntime = deleteIn(instanceFinding(), ["service", "runtimeDetails"]);
    expect(expectFinding(parseDetail(noRuntime)).runtime).toBeUndefined();
  });
});
