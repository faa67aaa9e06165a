/**
 * Settings every AWS SDK v3 client in the service shares. `endpoint` is only for emulators; in
 * production it is unset and the SDK resolves AWS's regional endpoints itself.
 */
export interface AwsClientSettings {
  region: string;
  endpoint?: string | undefined;
  /** SDK-level attempts for one call; step-level retries live in BullMQ and the poller. */
  maxAttempts?: number;
}

export function awsClientConfig(settings: AwsClientSettings): {
  region: string;
  endpoint?: string;
  maxAttempts: number;
} {
  return {
    region: settings.region,
    maxAttempts: settings.maxAttempts ?? 3,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
  };
}
