// The test kit (README.md): real services for a test file (a database of its own, a Redis
// prefix, a moto server), the proxies and child processes that fault tests need, readers of the
// rows tests assert on, and per-playbook seeding. The composed world with the services under
// test (world/) is imported from "./world/index.js": it loads the services, which the demo and
// the benchmarks that use this file do not need.
import "./provided.js";

export { awsTestEnv, assertLocalEndpoint, MOTO_ACCOUNT_ID, type AwsTestEnv } from "./aws-env.js";
export { createCallLog, createGate, type CallLog, type Gate } from "./aws-calls.js";
export { startAwsProxy, type AwsProxy, type AwsRequest, type FailOptions, type HoldHandle } from "./aws-proxy.js";
export { holdAfter, holdNth, type Held } from "./aws-proxy-holds.js";
export { spawnTs, type Exit, type OutputLine, type TsChild } from "./child.js";
export { createTestDatabase, type TestDatabase } from "./database.js";
export { at, findingIdOf, fixtureResourceKey, stringAt } from "./findings.js";
export { metricValue, scrape } from "./metrics.js";
export { startMoto, type Moto } from "./moto.js";
export { freePort } from "./ports.js";
export { policyAllowing, policyFile } from "./policy.js";
export { createTestRedis, deleteByPrefix, type TestRedis } from "./redis.js";
export * from "./rows.js";
export * from "./seed/index.js";
export { startReceiver, type Received, type Receiver } from "./slack-receiver.js";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
export { waitUntil, type WaitOptions } from "./wait.js";
