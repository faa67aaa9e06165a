import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AwsClients, AwsServiceName } from "./clients.js";
import { createAwsClientFactory, type AwsClientFactoryOptions, type GdrAwsClientFactory } from "./factory.js";
import { AWS_SERVICES } from "./services.js";

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

  it("acts in the European Sovereign Cloud only from a worker whose STS is in its partition (aws-eusc)", async () => {
    await expect(make().forTarget("111122223333", "eusc-de-east-1")).rejects.toThrow(/outside the aws partition/);
    factory?.destroy();
    const eusc = await make({ stsRegion: "eusc-de-east-1" }).forTarget("111122223333", "eusc-de-east-1");
    expect(await eusc.ec2.config.region()).toBe("eusc-de-east-1");
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    await keyOf(eusc);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual(["arn:aws-eusc:iam::111122223333:role/GuardDutyResponder"]);
  });

  it("refuses new work once destroyed", async () => {
    const f = make();
    await f.forTarget("111122223333", "eu-west-1");
    f.destroy();
    await expect(f.forTarget("111122223333", "eu-west-1")).rejects.toThrow(/destroyed/);
  });
});

describe("lazy clients", () => {
  function recorder(): { seen: [AwsServiceName, string, string][]; onClient: NonNullable<AwsClientFactoryOptions["onClient"]> } {
    const seen: [AwsServiceName, string, string][] = [];
    return { seen, onClient: (service, _client, target) => seen.push([service, target.accountId, target.region]) };
  }

  it("builds no client until a service is used, then one per service, account and region", async () => {
    const { seen, onClient } = recorder();
    const f = make({ onClient });
    const west = await f.forTarget("111122223333", "eu-west-1");
    expect(seen).toEqual([]);
    expect(Object.keys(west)).toEqual(["accountId", "region"]);
    const ec2 = west.ec2;
    expect(west.ec2).toBe(ec2);
    expect(seen).toEqual([["ec2", "111122223333", "eu-west-1"]]);
    const east = await f.forTarget("111122223333", "us-east-1");
    expect(east.ec2).not.toBe(ec2);
    expect(west.iam.config.serviceId).toBe("IAM");
    expect(seen).toEqual([
      ["ec2", "111122223333", "eu-west-1"],
      ["ec2", "111122223333", "us-east-1"],
      ["iam", "111122223333", "eu-west-1"],
    ]);
    expect(await east.ec2.config.region()).toBe("us-east-1");
  });

  it("builds every client of the table on demand, each of its own service", async () => {
    const { seen, onClient } = recorder();
    const clients = await make({ onClient }).forTarget("123456789012", "eu-west-1");
    for (const service of Object.keys(AWS_SERVICES) as AwsServiceName[]) {
      expect(clients[service].config.serviceId.toLowerCase().replace(/ /g, "")).toBe(SERVICE_IDS[service]);
    }
    expect(seen.map(([s]) => s)).toEqual(Object.keys(AWS_SERVICES));
  });

  it("builds for the middleware exactly the clients it touches, and tells onClient", async () => {
    const { seen, onClient } = recorder();
    const touched: string[] = [];
    const f = make({ onClient, middleware: (set) => touched.push(set.ec2.config.serviceId) });
    const clients = await f.forTarget("111122223333", "eu-west-1");
    expect(touched).toEqual(["EC2"]);
    expect(seen.map(([s]) => s)).toEqual(["ec2"]);
    expect(clients.ec2.config.serviceId).toBe("EC2");
    expect(seen).toHaveLength(1);
  });

  it("destroys exactly the clients it built, and builds none afterwards", async () => {
    const built: { service: AwsServiceName; destroyed: () => number }[] = [];
    const f = make({
      onClient: (service, client) => {
        const spy = vi.spyOn(client, "destroy");
        built.push({ service, destroyed: () => spy.mock.calls.length });
      },
    });
    const a = await f.forTarget("111122223333", "eu-west-1");
    const b = await f.forTarget("123456789012", "us-east-1");
    expect([a.ec2, a.guardduty, b.elbv2].map((c) => c.config.serviceId)).toEqual(["EC2", "GuardDuty", "Elastic Load Balancing v2"]);
    f.destroy();
    expect(built.map((c) => [c.service, c.destroyed()])).toEqual([
      ["ec2", 1],
      ["guardduty", 1],
      ["elbv2", 1],
    ]);
    expect(() => a.iam).toThrow(/destroyed/);
    expect(built).toHaveLength(3);
  });
});

/** The SDK's serviceId of each client, lowercased without spaces. */
const SERVICE_IDS: Record<AwsServiceName, string> = {
  ec2: "ec2",
  autoscaling: "autoscaling",
  elbv2: "elasticloadbalancingv2",
  guardduty: "guardduty",
  iam: "iam",
  ecs: "ecs",
  ecr: "ecr",
};
