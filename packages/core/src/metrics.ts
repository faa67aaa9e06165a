import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * A registry per process (never prom-client's global one), so several services can share a
 * process — `npm start` runs all three — and tests can build as many as they like.
 */
export function createMetricsRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

export { Registry } from "prom-client";
