// The call layer's guarantees without AWS: a read is only ever a read, a read-only step cannot
// change anything, and a dry run tells a placeholder from an ordinary value.
import { CreateTagsCommand, DescribeInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import type { AwsClients } from "@gdr/core/aws/clients";
import { describe, expect, it } from "vitest";
import { callsFor, readOnlyView } from "./calls.js";
import { isPlaceholder, resultOf } from "./placeholders.js";

/** An EC2 client that records what reaches it and answers every command as EC2 answers a DryRun it allows. */
function recordingAws(): { aws: AwsClients; sent: string[] } {
  const sent: string[] = [];
  const ec2 = {
    send(command: object): Promise<never> {
      sent.push(command.constructor.name);
      return Promise.reject(Object.assign(new Error("Request would have succeeded"), { name: "DryRunOperation", $metadata: { httpStatusCode: 412 } }));
    },
  };
  return { aws: { accountId: "123456789012", region: "us-east-1", ec2 } as unknown as AwsClients, sent };
}

const base = (aws: AwsClients) => ({ aws, signal: new AbortController().signal, throttle: () => Promise.resolve(), noteRequestId: () => undefined });

describe("the call layer", () => {
  it("refuses to send anything but a read through read, in every mode", async () => {
    for (const mode of ["act", "plan", "dry_run"] as const) {
      const { aws, sent } = recordingAws();
      const calls = callsFor(mode, base(aws));
      await expect(calls.read("ec2", "ec2-write", new TerminateInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] }))).rejects.toMatchObject({ name: "NotAReadError" });
      expect(sent).toEqual([]);
      await expect(calls.read("ec2", "ec2-read", new DescribeInstancesCommand({}))).rejects.toMatchObject({ name: "DryRunOperation" });
      expect(sent).toEqual(["DescribeInstancesCommand"]);
    }
  });

  it("gives a read-only step no way to change anything", async () => {
    const { aws, sent } = recordingAws();
    const view = readOnlyView(callsFor("act", base(aws)), "identify");
    await expect(view.change({ service: "ec2", family: "ec2-write", command: new CreateTagsCommand({ Resources: ["i-0123456789abcdef0"], Tags: [] }) })).rejects.toMatchObject({ name: "ReadOnlyStepError" });
    await expect(view.changeOutside({ service: "k8s", family: "k8s-write", operation: "Delete", params: {}, send: () => Promise.resolve() })).rejects.toMatchObject({ name: "ReadOnlyStepError" });
    expect(sent).toEqual([]);
  });

  it("checks a dry-run change that holds an ordinary value from an earlier answer, and skips only one that holds a placeholder", async () => {
    const { aws, sent } = recordingAws();
    const calls = callsFor("dry_run", base(aws));
    const created = await calls.change({
      service: "ec2",
      family: "ec2-write",
      command: new CreateTagsCommand({ Resources: ["i-0123456789abcdef0"], Tags: [] }),
      planned: { State: "pending", Id: resultOf("CreateSnapshot", "SnapshotId", "vol-0123456789abcdef0") } as object,
    });
    const planned = created as unknown as { State: string; Id: string };
    await calls.change({ service: "ec2", family: "ec2-write", command: new CreateTagsCommand({ Resources: ["i-0123456789abcdef0"], Tags: [{ Key: "state", Value: planned.State }] }) });
    await calls.change({ service: "ec2", family: "ec2-write", command: new CreateTagsCommand({ Resources: [planned.Id], Tags: [] }) });
    expect(calls.recorded.permissions.map((p) => p.detail)).toEqual([
      "CreateTags: DryRunOperation (would succeed)",
      "CreateTags: DryRunOperation (would succeed)",
      "CreateTags: not checked, it uses the answer of an earlier call",
    ]);
    expect(sent).toEqual(["CreateTagsCommand", "CreateTagsCommand"]);
    expect(isPlaceholder("pending")).toBe(false);
    expect(isPlaceholder(planned.Id)).toBe(true);
  });
});
