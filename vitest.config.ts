import { defineConfig } from "vitest/config";

// Two projects: fast unit tests beside the code, and integration tests in test/ that talk to real
// Postgres, Redis and moto. Integration files each get their own database schema, Redis prefix
// and moto server, so they can run in parallel.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: "forks",
        },
      },
    ],
  },
});
