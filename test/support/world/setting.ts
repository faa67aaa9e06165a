import { awsTestEnv } from "../aws-env.js";

/** Where a service under test works: its database, its Redis and queue prefix, its AWS endpoint. */
export interface ServiceSetting {
  databaseUrl: string;
  redisUrl: string;
  /** The BullMQ / token bucket / pause switch prefix. */
  prefix: string;
  /** Where its AWS calls go: moto, or an AWS proxy in front of it. */
  endpoint: string;
}

/** The environment every service takes for its setting (AWS through moto's fake keys). */
export function settingEnv(setting: ServiceSetting): Record<string, string> {
  return {
    ...awsTestEnv(setting.endpoint).env,
    DATABASE_URL: setting.databaseUrl,
    REDIS_URL: setting.redisUrl,
    QUEUE_PREFIX: setting.prefix,
  };
}
