/** Where a service under test works: its database, its Redis and queue prefix, its AWS endpoint. */
export interface ServiceSetting {
  databaseUrl: string;
  redisUrl: string;
  /** The BullMQ / token bucket / pause switch prefix. */
  prefix: string;
  /** Where its AWS calls go: moto, or an AWS proxy in front of it. */
  endpoint: string;
}
