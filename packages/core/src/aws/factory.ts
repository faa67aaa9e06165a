// The SDK clients for a finding's account and region. The worker's own account uses its own
// credentials; any other account is reached through STS AssumeRole (credentials.ts). A client is
// built when a step first uses its service in an account and region, and reused after: an SDK
// client holds sockets and a credential cache, and most remediations touch two or three services.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { awsClientConfig } from "./client-config.js";
import type { AwsClientFactory, AwsClients, AwsServiceClient, AwsServiceName } from "./clients.js";
import { createCredentialCache } from "./credentials.js";
import { AWS_SERVICES, type ServiceClientSettings } from "./services.js";
import { AwsTargetError, assertAccountId, assertRegion, partitionOf } from "./targets.js";

export interface AwsClientFactoryOptions {
  /** The worker's own account; looked up once with STS GetCallerIdentity when not given. */
  localAccountId?: string | (() => Promise<string>) | undefined;
  /** The role assumed in every other account. */
  roleName: string;
  externalId?: string | undefined;
  /** RoleSessionName, seen in the target account's CloudTrail (default `guardduty-responder`). */
  sessionName?: string | undefined;
  durationSeconds?: number | undefined;
  /** Only for emulators (moto); unset in production so the SDK resolves AWS's endpoints. */
  endpoint?: string | undefined;
  /** SDK-level attempts per call (default 3); step-level retries are BullMQ's. */
  maxAttempts?: number | undefined;
  /** Region of the STS client that assumes roles (default us-east-1); fixes the partition. */
  stsRegion?: string | undefined;
  /**
   * The worker's own credentials. Unset (production): each client uses the SDK's default chain
   * (environment, web identity, ECS/EC2 instance role). Tests pass moto's fake keys.
   */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  /**
   * Called once for each new client set (account and region); tests add fault injection here. The
   * clients it touches are built then.
   */
  middleware?: ((clients: AwsClients) => void) | undefined;
  /** Called for every client built, whenever that is; tests that record every call hook in here. */
  onClient?: ((service: AwsServiceName, client: AwsServiceClient, target: { accountId: string; region: string }) => void) | undefined;
  now?: (() => number) | undefined;
}

export interface GdrAwsClientFactory extends AwsClientFactory {
  /** The worker's own account id (resolved once). */
  localAccountId(): Promise<string>;
}

const SERVICE_NAMES = Object.keys(AWS_SERVICES) as AwsServiceName[];
const DEFAULT_STS_REGION = "us-east-1";
const DEFAULT_SESSION_NAME = "guardduty-responder";

export function createAwsClientFactory(options: AwsClientFactoryOptions): GdrAwsClientFactory {
  const stsRegion = options.stsRegion ?? DEFAULT_STS_REGION;
  const partition = partitionOf(stsRegion);
  if (typeof options.localAccountId === "string") assertAccountId(options.localAccountId);
  const shared = {
    endpoint: options.endpoint,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  };
  const ownCredentials = options.credentials === undefined ? {} : { credentials: options.credentials };

  const sts = new STSClient({ ...awsClientConfig({ region: stsRegion, ...shared }), ...ownCredentials });
  const credentialCache = createCredentialCache({
    sts,
    roleName: options.roleName,
    externalId: options.externalId,
    sessionName: options.sessionName ?? DEFAULT_SESSION_NAME,
    region: stsRegion,
    durationSeconds: options.durationSeconds,
    now: options.now,
  });

  let localAccount: Promise<string> | undefined;
  const clients = new Map<string, Promise<AwsClients>>();
  const built: AwsServiceClient[] = [];
  let destroyed = false;

  function localAccountId(): Promise<string> {
    localAccount ??= resolveLocalAccountId().catch((err: unknown) => {
      localAccount = undefined; // a failed lookup is asked again next time, not cached
      throw err;
    });
    return localAccount;
  }

  async function resolveLocalAccountId(): Promise<string> {
    const given = options.localAccountId;
    const id =
      typeof given === "string"
        ? given
        : given
          ? await given()
          : (await sts.send(new GetCallerIdentityCommand({}))).Account;
    if (id === undefined) throw new Error("STS GetCallerIdentity returned no account id");
    assertAccountId(id);
    return id;
  }

  async function build(accountId: string, region: string): Promise<AwsClients> {
    const own = accountId === (await localAccountId());
    if (destroyed) throw new Error("the AWS client factory was destroyed");
    // A provider function, not fixed keys: the SDK asks again before expiry and gets refreshed ones.
    const credentials = own ? ownCredentials : { credentials: credentialCache.provider(accountId) };
    const settings: ServiceClientSettings = { ...awsClientConfig({ region, ...shared }), ...credentials };
    const set = lazyClientSet(accountId, region, settings);
    options.middleware?.(set);
    return set;
  }

  /** A client set whose service clients are built on first use, each once. */
  function lazyClientSet(accountId: string, region: string, settings: ServiceClientSettings): AwsClients {
    const made = new Map<AwsServiceName, AwsServiceClient>();
    const set = { accountId, region };
    for (const service of SERVICE_NAMES) {
      // Not enumerable: logging or spreading a set must not build every client.
      Object.defineProperty(set, service, {
        enumerable: false,
        get(): AwsServiceClient {
          let client = made.get(service);
          if (client === undefined) {
            if (destroyed) throw new Error("the AWS client factory was destroyed");
            client = AWS_SERVICES[service](settings);
            made.set(service, client);
            built.push(client);
            options.onClient?.(service, client, { accountId, region });
          }
          return client;
        },
      });
    }
    // Every service name now has its getter, which is what AwsClients promises.
    return set as AwsClients;
  }

  return {
    localAccountId,
    async forTarget(accountId, region) {
      if (destroyed) throw new Error("the AWS client factory was destroyed");
      assertAccountId(accountId);
      assertRegion(region);
      if (partitionOf(region) !== partition) {
        throw new AwsTargetError(`region ${region} is outside the ${partition} partition this worker's STS is in`);
      }
      // Synchronous up to the `await`: concurrent calls for one key share one build.
      const key = `${accountId}/${region}`;
      let set = clients.get(key);
      if (!set) {
        set = build(accountId, region);
        clients.set(key, set);
        // A failed build (the account lookup failed) is retried on the next call.
        set.catch(() => clients.delete(key));
      }
      return await set;
    },
    destroy() {
      destroyed = true;
      for (const client of built.splice(0)) client.destroy();
      clients.clear();
      sts.destroy();
    },
  };
}
