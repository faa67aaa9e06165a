// Credentials for acting in other accounts: STS AssumeRole into a fixed role name, cached per
// account until shortly before they expire, with concurrent requests for one account sharing a
// single STS call (a burst of findings from one account must not become a burst of AssumeRole).
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import {
  AwsTargetError,
  EXTERNAL_ID_PATTERN,
  SESSION_NAME_PATTERN,
  assertAccountId,
  assertRoleName,
  partitionOf,
  roleArn,
} from "./targets.js";

export interface CredentialCacheOptions {
  /** Any STS client (or a narrow stand-in) with the worker's own credentials. */
  sts: Pick<STSClient, "send">;
  /** The role assumed in every target account. */
  roleName: string;
  /** Required by the role's trust policy when the account owner set one (confused deputy). */
  externalId?: string | undefined;
  /** RoleSessionName: shows up in the target account's CloudTrail as who did it. */
  sessionName: string;
  /** The STS client's region; decides the ARN partition (aws, aws-cn, aws-us-gov, …). */
  region: string;
  /** Session length; STS allows 900 (the default) up to the role's maximum. */
  durationSeconds?: number | undefined;
  /** Refresh this long before expiry (default 5 min, the SDK's own margin), so no call runs on a lapsing session. */
  refreshBeforeMs?: number | undefined;
  now?: (() => number) | undefined;
}

export interface CredentialCache {
  /** Credentials for the role in `accountId`; from the cache unless they expire within the margin. */
  credentialsFor(accountId: string): Promise<AwsCredentialIdentity>;
  /**
   * The same as an SDK credential provider: a client built with it asks again when its copy is
   * about to expire, and gets the refreshed credentials without being rebuilt.
   */
  provider(accountId: string): AwsCredentialIdentityProvider;
}

const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43_200;

export function createCredentialCache(options: CredentialCacheOptions): CredentialCache {
  const durationSeconds = options.durationSeconds ?? MIN_DURATION_SECONDS;
  const refreshBeforeMs = options.refreshBeforeMs ?? 300_000;
  const now = options.now ?? Date.now;
  validate(options, durationSeconds, refreshBeforeMs);
  const partition = partitionOf(options.region);

  const cached = new Map<string, AwsCredentialIdentity & { expiration: Date }>();
  const inFlight = new Map<string, Promise<AwsCredentialIdentity>>();

  async function assume(accountId: string): Promise<AwsCredentialIdentity & { expiration: Date }> {
    const requestedAt = now();
    // No abort signal: the call is shared by every caller waiting on this account, and one of them
    // stopping must not fail the others.
    const out = await options.sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn(partition, accountId, options.roleName),
        RoleSessionName: options.sessionName,
        DurationSeconds: durationSeconds,
        ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
      throw new Error(`STS AssumeRole for account ${accountId} returned no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      // STS always sends Expiration; without it, assume the shortest session we asked for.
      expiration: c.Expiration ?? new Date(requestedAt + durationSeconds * 1000),
      accountId,
    };
  }

  // Everything up to the `await` runs synchronously, so the second of two concurrent callers
  // always finds the first one's call in `inFlight`.
  async function credentialsFor(accountId: string): Promise<AwsCredentialIdentity> {
    assertAccountId(accountId);
    const hit = cached.get(accountId);
    if (hit && hit.expiration.getTime() - refreshBeforeMs > now()) return hit;
    let call = inFlight.get(accountId);
    if (!call) {
      call = assume(accountId)
        .then((fresh) => {
          cached.set(accountId, fresh);
          return fresh;
        })
        .finally(() => inFlight.delete(accountId));
      inFlight.set(accountId, call);
    }
    return await call;
  }

  return {
    credentialsFor,
    provider: (accountId) => () => credentialsFor(accountId),
  };
}

function validate(options: CredentialCacheOptions, durationSeconds: number, refreshBeforeMs: number): void {
  assertRoleName(options.roleName);
  if (!SESSION_NAME_PATTERN.test(options.sessionName)) {
    throw new AwsTargetError(`not an STS session name (2-64 of letters, digits and +=,.@_-): ${options.sessionName}`);
  }
  if (options.externalId !== undefined && !EXTERNAL_ID_PATTERN.test(options.externalId)) {
    throw new AwsTargetError("the external id must be 2-1224 of letters, digits and +=,.@:/_-");
  }
  if (!Number.isInteger(durationSeconds) || durationSeconds < MIN_DURATION_SECONDS || durationSeconds > MAX_DURATION_SECONDS) {
    throw new AwsTargetError(`durationSeconds must be an integer from 900 to 43200, not ${durationSeconds}`);
  }
  if (!(refreshBeforeMs >= 0 && refreshBeforeMs < durationSeconds * 1000)) {
    throw new AwsTargetError(`refreshBeforeMs must be at least 0 and below the session length, not ${refreshBeforeMs}`);
  }
}
