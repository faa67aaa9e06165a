// The AWS layer: client factory (own account or assumed role), credential cache, error
// classification. Steps get their clients from an `AwsClientFactory`; nothing here runs at import.
export { awsClientConfig, type AwsClientSettings } from "./client-config.js";
export type { AwsClientFactory, AwsClients, AwsServiceClient, AwsServiceClients, AwsServiceName } from "./clients.js";
export { AWS_SERVICES, type ServiceClientSettings } from "./services.js";
export { createCredentialCache, type CredentialCache, type CredentialCacheOptions } from "./credentials.js";
export {
  ERROR_LABELS,
  awsRequestId,
  classifyAwsError,
  errorLabel,
  isDryRunSuccess,
  type AwsErrorKind,
  type ClassifiedAwsError,
  type ErrorLabel,
} from "./errors.js";
export { createAwsClientFactory, type AwsClientFactoryOptions, type GdrAwsClientFactory } from "./factory.js";
export {
  ACCOUNT_ID_PATTERN,
  AwsTargetError,
  REGION_PATTERN,
  ROLE_NAME_PATTERN,
  assertAccountId,
  assertRegion,
  assertRoleName,
  partitionOf,
  roleArn,
} from "./targets.js";
