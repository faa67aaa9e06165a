import { isLoopbackHost } from "./db-url.js";

/** AWS's own documented example keys: well-formed, and valid nowhere. */
const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION = "us-east-1";

/** moto's default account: everything seeded lives there, and it is the worker's own account. */
export const MOTO_ACCOUNT_ID = "123456789012";

export interface AwsTestEnv {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The same as environment variables, for child processes and env-driven config. */
  env: Record<string, string>;
}

/**
 * What an SDK client needs to talk to moto: `new SQSClient(awsTestEnv(moto.endpoint))` works as is
 * (the extra `env` field is ignored by the SDK). Refuses any endpoint off this machine, so a test
 * can never reach real AWS, whatever credentials happen to be around.
 */
export function awsTestEnv(endpoint: string): AwsTestEnv {
  assertLocalEndpoint(endpoint);
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
  return {
    region: REGION,
    endpoint,
    credentials,
    env: {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL: endpoint,
      // No instance-metadata lookups and no shared config files from the developer's machine.
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    },
  };
}

export function assertLocalEndpoint(endpoint: string): void {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    throw new Error(`not a URL: ${endpoint}`);
  }
  if (!isLoopbackHost(host)) {
    throw new Error(`tests may only call AWS emulators on this machine, not ${endpoint}`);
  }
}
