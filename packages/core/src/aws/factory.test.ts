import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AwsClients } from "./clients.js";
import { createAwsClientFactory, type AwsClientFactoryOptions, type GdrAwsClientFactory } from "./factory.js";

// Unit level: the factory's own STS client is mocked, and SDK clients are built but never send.
// test/aws-layer.test.ts runs the same factory against moto.
const stsMock = mockClient(STSClient);
const OWN = { accessKeyId: "AKIAOWN", secretAccessKey: "own-secret" };

let factory: GdrAwsClientFactory | undefined;

function make(overrides: Partial<AwsClientFactoryOptions> = {}): GdrAwsClientFactory {
  factory = createAwsClientFactory({
    localAccountId: "123456789012",
    roleName: "GuardDutyResponder",
    externalId: "tenant-42",
    credentials: OWN,
    maxAttempts: 1,
    ...overrides,
  });
  return factory;
}

beforeEach(() => {
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: "123456789012" });
  stsMock.on(AssumeRoleCommand).callsFake((input: { RoleArn?: string }) => ({
    Credentials: {
      AccessKeyId: `ASIA-${input.RoleArn?.split(":")[4] ?? "?"}`,
      SecretAccessKey: "s",
      SessionToken: "t",
      Expiration: new Date(Date.now() + 900_000),
    },
  }));
});

afterEach(() => {
  factory?.destroy();
  factory = undefined;
});

async function keyOf(clients: AwsClients): Promise<string> {
  const provider = clients.ec2.config.credentials;
  return (await provider()).accessKeyId;
}

describe("createAwsClientFactory", () => {
  it("uses the worker's own credentials in its own account, without assuming a role", async () => {
    const clients = await make().forTarget("123456789012", "eu-west-1");
    expect(clients).toMatchObject({ accountId: "123456789012", region: "eu-west-1" });
    expect(await keyOf(clients)).toBe("AKIAOWN");
    expect(await clients.ec2.config.region()).toBe("eu-west-1");
    expect(await clients.ec2.config.maxAttempts()).toBe(1);
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it("assumes the role in other accounts, through a provider shared by every client of the account", async () => {
    const f = make();
    const west = await f.forTarget("111122223333", "eu-west-1");
    const east = await f.forTarget("111122223333", "us-east-1");
    expect(await keyOf(west)).toBe("ASIA-111122223333");
    expect(await keyOf(east)).toBe("ASIA-111122223333");
    expect((await west.guardduty.config.credentials()).accessKeyId).toBe("ASIA-111122223333");
    const calls = stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        RoleArn: "arn:aws:iam::111122223333:role/GuardDutyResponder",
        RoleSessionName: "guardduty-responder",
        DurationSeconds: 900,
        ExternalId: "tenant-42",
      },
    ]);
  });

  it("caches client sets per account and region, also across concurrent calls", async () => {
    const built: AwsClients[] = [];
    const f = make({ middleware: (set) => built.push(set) });
    const [a, b] = await Promise.all([f.forTarget("111122223333", "eu-west-1"), f.forTarget("111122223333", "eu-west-1")]);
    expect(a).toBe(b);
    expect(await f.forTarget("111122223333", "eu-west-1")).toBe(a);
    expect(await f.forTarget("111122223333", "eu-west-2")).not.toBe(a);
    expect(built).toHaveLength(2);
  });

  it("looks its own account up once with GetCallerIdentity when not given", async () => {
    const f = make({ localAccountId: undefined });
    await Promise.all([f.forTarget("123456789012", "us-east-1"), f.forTarget("999988887777", "us-east-1")]);
    expect(await f.localAccountId()).toBe("123456789012");
    expect(stsMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });

  it("retries a failed account lookup on the next call", async () => {
    stsMock.on(GetCallerIdentityCommand).rejectsOnce(new Error("no network")).resolves({ Account: "123456789012" });
    const f = make({ localAccountId: undefined });
    await expect(f.forTarget("123456789012", "us-east-1")).rejects.toThrow("no network");
    expect(await keyOf(await f.forTarget("123456789012", "us-east-1"))).toBe("AKIAOWN");
  });

  it("validates account, region and partition before any call", async () => {
    const f = make({ localAccountId: undefined });
    await expect(f.forTarget("12345", "us-east-1")).rejects.toThrow(/not an AWS account id/);
    await expect(f.forTarget("111122223333", "us-east-1.evil.example")).rejects.toThrow(/not an AWS region/);
    await expect(f.forTarget("111122223333", "cn-north-1")).rejects.toThrow(/outside the aws partition/);
    expect(stsMock.calls()).toHaveLength(0);
    expect(() => make({ roleName: "no spaces" })).toThrow(/IAM role name/);
    expect(() => make({ localAccountId: "abc" })).toThrow(/not an AWS account id/);
  });

  it("refuses new work once destroyed", async () => {
    const f = make();
    await f.forTarget("111122223333", "eu-west-1");
    f.destroy();
    await expect(f.forTarget("111122223333", "eu-west-1")).rejects.toThrow(/destroyed/);
  });
});
