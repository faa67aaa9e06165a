// The AWS layer against moto: the client factory in the worker's own account and, through STS
// AssumeRole, in another; client caching; and fault injection classified as the worker would.
import { CreateVpcCommand, DescribeInstancesCommand, DescribeVpcsCommand, EC2ServiceException } from "@aws-sdk/client-ec2";
import { ListRolesCommand } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { MiddlewareStack } from "@smithy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients, AwsServiceName } from "../packages/core/src/aws/clients.js";
import { awsRequestId, classifyAwsError, errorLabel } from "../packages/core/src/aws/errors.js";
import { createAwsClientFactory, type AwsClientFactoryOptions, type GdrAwsClientFactory } from "../packages/core/src/aws/factory.js";
import { injectFaults, type FaultHandle } from "./support/aws-faults.js";
import { awsTestEnv, startMoto, type AwsTestEnv, type Moto } from "./support/index.js";

const MOTO_ACCOUNT = "123456789012"; // the account moto answers GetCallerIdentity with
const OTHER_ACCOUNT = "111122223333";

let moto: Moto;
let env: AwsTestEnv;
const factories: GdrAwsClientFactory[] = [];

beforeAll(async () => {
  moto = await startMoto();
  env = awsTestEnv(moto.endpoint);
});

afterEach(() => {
  for (const f of factories.splice(0)) f.destroy();
});

afterAll(async () => {
  await moto.stop();
});

function factory(
  options: { maxAttempts?: number; middleware?: (clients: AwsClients) => void; onClient?: AwsClientFactoryOptions["onClient"] } = {},
): GdrAwsClientFactory {
  const f = createAwsClientFactory({
    roleName: "GuardDutyResponder",
    externalId: "gdr-test",
    endpoint: env.endpoint,
    stsRegion: env.region,
    credentials: env.credentials,
    maxAttempts: options.maxAttempts ?? 1,
    middleware: options.middleware,
    onClient: options.onClient,
  });
  factories.push(f);
  return f;
}

/** Who moto thinks the clients' credentials belong to. */
async function callerAccount(clients: AwsClients): Promise<string | undefined> {
  const sts = new STSClient({ region: env.region, endpoint: env.endpoint, credentials: clients.ec2.config.credentials });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } finally {
    sts.destroy();
  }
}

describe("client factory on moto", () => {
  it("finds its own account with GetCallerIdentity and uses its own credentials there", async () => {
    const f = factory();
    expect(await f.localAccountId()).toBe(MOTO_ACCOUNT);
    const own = await f.forTarget(MOTO_ACCOUNT, env.region);
    expect((await own.ec2.config.credentials()).accessKeyId).toBe(env.credentials.accessKeyId);
    const vpcs = await own.ec2.send(new DescribeVpcsCommand({}));
    expect(vpcs.Vpcs?.length).toBeGreaterThan(0);
    expect(awsRequestId(vpcs)).toBeTypeOf("string");
  });

  it("assumes the role in another account and gets working clients there", async () => {
    const f = factory();
    const other = await f.forTarget(OTHER_ACCOUNT, env.region);
    const creds = await other.ec2.config.credentials();
    expect(creds.accessKeyId).not.toBe(env.credentials.accessKeyId);
    expect(creds.sessionToken).toBeTruthy();
    expect(await callerAccount(other)).toBe(OTHER_ACCOUNT);

    // moto keeps resources per account: a VPC made through the assumed role is not in ours.
    const made = await other.ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }));
    const vpcId = made.Vpc?.VpcId ?? "";
    const inOther = await other.ec2.send(new DescribeVpcsCommand({}));
    expect(inOther.Vpcs?.map((v) => v.VpcId)).toContain(vpcId);
    const own = await f.forTarget(MOTO_ACCOUNT, env.region);
    const inOwn = await own.ec2.send(new DescribeVpcsCommand({}));
    expect(inOwn.Vpcs?.map((v) => v.VpcId)).not.toContain(vpcId);
  });

  it("hands out the same clients for the same account and region", async () => {
    const f = factory();
    const first = await f.forTarget(OTHER_ACCOUNT, env.region);
    const [again, concurrent] = await Promise.all([f.forTarget(OTHER_ACCOUNT, env.region), f.forTarget(OTHER_ACCOUNT, env.region)]);
    expect(again).toBe(first);
    expect(concurrent).toBe(first);
    expect(await f.forTarget(OTHER_ACCOUNT, "eu-west-1")).not.toBe(first);
  });

  it("builds a client only for a service used, and onClient sees every call each client sends", async () => {
    const built: string[] = [];
    const calls: string[] = [];
    const f = factory({
      onClient: (service: AwsServiceName, client, target) => {
        built.push(`${service}@${target.accountId}/${target.region}`);
        // Every client of the set has a middleware stack; only its type differs per service.
        (client.middlewareStack as MiddlewareStack<object, object>).add(
          (next, context) => (args) => {
            calls.push(`${service}:${String(context.commandName)}`);
            return next(args);
          },
          { step: "initialize", name: "test-call-log" },
        );
      },
    });
    const other = await f.forTarget(OTHER_ACCOUNT, env.region);
    expect(built).toEqual([]);
    await other.ec2.send(new DescribeVpcsCommand({}));
    await other.iam.send(new ListRolesCommand({}));
    await other.ec2.send(new DescribeInstancesCommand({}));
    expect(built).toEqual([`ec2@${OTHER_ACCOUNT}/${env.region}`, `iam@${OTHER_ACCOUNT}/${env.region}`]);
    expect(calls).toEqual(["ec2:DescribeVpcsCommand", "iam:ListRolesCommand", "ec2:DescribeInstancesCommand"]);
  });

  it("refuses an invalid account id before calling anything", async () => {
    await expect(factory().forTarget("1111-2222-3333", env.region)).rejects.toMatchObject({ name: "InvalidAwsTarget" });
  });
});

describe("fault injection", () => {
  it("throttles DescribeInstances twice, classified as throttled, then passes to moto", async () => {
    let faults: FaultHandle | undefined;
    const f = factory({
      maxAttempts: 1,
      middleware: (clients) => {
        faults = injectFaults(clients.ec2, [
          { operation: "DescribeInstances", times: 2, name: "RequestLimitExceeded", httpStatus: 503, errorClass: EC2ServiceException },
        ]);
      },
    });
    const { ec2 } = await f.forTarget(OTHER_ACCOUNT, env.region);

    for (const attempt of [1, 2]) {
      const err = await ec2.send(new DescribeInstancesCommand({})).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EC2ServiceException);
      const c = classifyAwsError(err);
      expect(c).toMatchObject({ kind: "throttled", code: "RequestLimitExceeded", httpStatus: 503 });
      expect(c.requestId).toBe(`gdr-fault-DescribeInstances-${attempt}`);
      expect(errorLabel(c)).toBe("throttled");
    }
    const out = await ec2.send(new DescribeInstancesCommand({}));
    expect(out.Reservations).toEqual([]);
    expect(faults?.counts()).toEqual({ DescribeInstances: 2 });

    // Other operations were never touched.
    await ec2.send(new DescribeVpcsCommand({}));
    expect(faults?.injected("DescribeVpcs")).toBe(0);
  });

  it("meets one fault per SDK attempt, so the SDK's own retries ride through them", async () => {
    let faults: FaultHandle | undefined;
    const f = factory({
      maxAttempts: 3,
      middleware: (clients) => {
        faults = injectFaults(clients.ec2, [{ operation: "DescribeInstancesCommand", times: 2, name: "ThrottlingException" }]);
      },
    });
    const { ec2 } = await f.forTarget(MOTO_ACCOUNT, env.region);
    const out = await ec2.send(new DescribeInstancesCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    expect(faults?.injected("DescribeInstances")).toBe(2);

    faults?.clear();
    expect(ec2.middlewareStack.identify().some((m) => m.startsWith("gdr-fault-injection"))).toBe(false);
  });
});
