import { AssumeRoleCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createCredentialCache, type CredentialCacheOptions } from "./credentials.js";
import { partitionOf } from "./targets.js";

const stsMock = mockClient(STSClient);
const T0 = Date.parse("2025-01-01T00:00:00Z");
const MINUTE = 60_000;

let clock = T0;
let issued = 0;
let sts: STSClient;

/** STS answers with fresh keys each call, valid for the duration asked (as STS does). */
function answerAssumeRole(): void {
  stsMock.on(AssumeRoleCommand).callsFake((input: { DurationSeconds?: number }) => {
    issued += 1;
    return {
      Credentials: {
        AccessKeyId: `ASIA${issued}`,
        SecretAccessKey: `secret-${issued}`,
        SessionToken: `token-${issued}`,
        Expiration: new Date(clock + (input.DurationSeconds ?? 3600) * 1000),
      },
    };
  });
}

function cache(overrides: Partial<CredentialCacheOptions> = {}) {
  return createCredentialCache({
    sts,
    roleName: "GuardDutyResponder",
    sessionName: "guardduty-responder",
    region: "us-east-1",
    now: () => clock,
    ...overrides,
  });
}

function assumeCalls() {
  return stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
}

beforeEach(() => {
  stsMock.reset();
  clock = T0;
  issued = 0;
  sts = new STSClient({ region: "us-east-1" });
  answerAssumeRole();
});

afterEach(() => {
  sts.destroy();
});

describe("createCredentialCache", () => {
  it("assumes the role in the account with the session settings", async () => {
    const creds = await cache({ externalId: "tenant-42" }).credentialsFor("111122223333");
    expect(creds).toMatchObject({ accessKeyId: "ASIA1", secretAccessKey: "secret-1", sessionToken: "token-1" });
    expect(creds.expiration).toEqual(new Date(T0 + 900_000));
    expect(assumeCalls()).toEqual([
      {
        RoleArn: "arn:aws:iam::111122223333:role/GuardDutyResponder",
        RoleSessionName: "guardduty-responder",
        DurationSeconds: 900,
        ExternalId: "tenant-42",
      },
    ]);
  });

  it("sends no ExternalId when none is configured", async () => {
    await cache().credentialsFor("111122223333");
    expect(assumeCalls()[0]).not.toHaveProperty("ExternalId");
  });

  it("reuses credentials until refreshBeforeMs before expiry, then refreshes", async () => {
    const c = cache(); // 900 s sessions, refreshed 300 s before the end: reused for 10 minutes
    const first = await c.credentialsFor("111122223333");
    clock = T0 + 9 * MINUTE;
    expect(await c.credentialsFor("111122223333")).toBe(first);
    expect(assumeCalls()).toHaveLength(1);

    clock = T0 + 10 * MINUTE + 1;
    const second = await c.credentialsFor("111122223333");
    expect(second.accessKeyId).toBe("ASIA2");
    expect(assumeCalls()).toHaveLength(2);
    clock = T0 + 15 * MINUTE;
    expect(await c.credentialsFor("111122223333")).toBe(second);
  });

  it("keeps one entry per account", async () => {
    const c = cache();
    const a = await c.credentialsFor("111122223333");
    const b = await c.credentialsFor("444455556666");
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect(await c.credentialsFor("111122223333")).toBe(a);
    expect(assumeCalls().map((i) => i.RoleArn)).toEqual([
      "arn:aws:iam::111122223333:role/GuardDutyResponder",
      "arn:aws:iam::444455556666:role/GuardDutyResponder",
    ]);
  });

  it("coalesces concurrent requests for one account into one STS call", async () => {
    const c = cache();
    const all = await Promise.all(Array.from({ length: 10 }, () => c.credentialsFor("111122223333")));
    expect(assumeCalls()).toHaveLength(1);
    expect(new Set(all).size).toBe(1);
  });

  it("does not cache a failure: the next call asks STS again", async () => {
    stsMock
      .on(AssumeRoleCommand)
      .rejectsOnce(new STSServiceException({ name: "AccessDenied", $fault: "client", $metadata: { httpStatusCode: 403 } }));
    const c = cache();
    const both = await Promise.allSettled([c.credentialsFor("111122223333"), c.credentialsFor("111122223333")]);
    expect(both.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(assumeCalls()).toHaveLength(1);

    answerAssumeRole();
    expect((await c.credentialsFor("111122223333")).accessKeyId).toBe("ASIA1");
    expect(assumeCalls()).toHaveLength(2);
  });

  it("refuses an invalid account id without calling STS", async () => {
    const c = cache();
    for (const bad of ["12345678901", "1234567890123", "11112222333a", " 111122223333", "111122223333/../x", ""]) {
      await expect(c.credentialsFor(bad)).rejects.toThrow(/not an AWS account id/);
    }
    expect(assumeCalls()).toHaveLength(0);
  });

  it("gives an SDK credential provider that follows the cache", async () => {
    const provider = cache().provider("111122223333");
    expect((await provider()).accessKeyId).toBe("ASIA1");
    clock = T0 + 11 * MINUTE;
    expect((await provider()).accessKeyId).toBe("ASIA2");
  });

  it("uses the partition of its region in the role ARN", async () => {
    await cache({ region: "cn-north-1" }).credentialsFor("111122223333");
    await cache({ region: "us-gov-west-1" }).credentialsFor("111122223333");
    await cache({ region: "eu-west-1" }).credentialsFor("111122223333");
    expect(assumeCalls().map((i) => i.RoleArn)).toEqual([
      "arn:aws-cn:iam::111122223333:role/GuardDutyResponder",
      "arn:aws-us-gov:iam::111122223333:role/GuardDutyResponder",
      "arn:aws:iam::111122223333:role/GuardDutyResponder",
    ]);
    expect(partitionOf("us-isob-east-1")).toBe("aws-iso-b");
    expect(partitionOf("eusc-de-east-1")).toBe("aws-eusc");
  });

  it("validates its settings when created", () => {
    expect(() => cache({ roleName: "role/with/path" })).toThrow(/IAM role name/);
    expect(() => cache({ roleName: "x".repeat(65) })).toThrow(/IAM role name/);
    expect(() => cache({ sessionName: "a b" })).toThrow(/session name/);
    expect(() => cache({ externalId: "x" })).toThrow(/external id/);
    expect(() => cache({ durationSeconds: 899 })).toThrow(/durationSeconds/);
    expect(() => cache({ refreshBeforeMs: 900_000 })).toThrow(/refreshBeforeMs/);
    expect(() => cache({ region: "mars-1" })).toThrow(/region/);
  });
});
