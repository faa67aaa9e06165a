// Test fixtures on real services: a database per test file, a Redis prefix, a moto server, and
// the proxies and child processes that fault tests need. See each file for the why.
import "./provided.js";

export { awsTestEnv, assertLocalEndpoint, type AwsTestEnv } from "./aws-env.js";
export { startAwsProxy, type AwsProxy, type AwsRequest, type FailOptions, type HoldHandle } from "./aws-proxy.js";
export { spawnTs, type Exit, type OutputLine, type TsChild } from "./child.js";
export { createTestDatabase, type TestDatabase } from "./database.js";
export { startMoto, type Moto } from "./moto.js";
export { freePort } from "./ports.js";
export { createTestRedis, deleteByPrefix, type TestRedis } from "./redis.js";
export {
  seedInstance,
  seedVpc,
  type SeedClients,
  type SeededInstance,
  type SeededVpc,
  type SeedInstanceOptions,
} from "./seed-instance.js";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
export { waitUntil, type WaitOptions } from "./wait.js";
export {
  containmentProblems,
  ISOLATION_GROUP_NAME,
  RESPONDER_TAG,
  seededEnis,
  viewInstance,
  vpcGroups,
  type EniView,
  type GroupView,
  type InstanceView,
  type SnapshotView,
} from "./instance-view.js";
