import type { AWS_SERVICES } from "./services.js";

/**
 * The SDK clients a playbook step may use, by name, all bound to one account and region. Each is
 * built when first used (services.ts holds the table of services).
 */
export type AwsServiceClients = { readonly [S in keyof typeof AWS_SERVICES]: ReturnType<(typeof AWS_SERVICES)[S]> };

export type AwsServiceName = keyof AwsServiceClients;

/** Any client of the set: what `onClient` and `destroy` see. */
export type AwsServiceClient = AwsServiceClients[AwsServiceName];

export type AwsClients = { readonly accountId: string; readonly region: string } & AwsServiceClients;

/** Gives the clients for an account and region (assuming a role where the account is not ours). */
export interface AwsClientFactory {
  forTarget(accountId: string, region: string): Promise<AwsClients>;
  /** Destroys every client built so far (shutdown); none is built afterwards. */
  destroy(): void;
}
