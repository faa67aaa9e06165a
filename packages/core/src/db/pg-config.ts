import type { PoolConfig } from "pg";

/**
 * Splits a postgres:// URL into the discrete fields node-postgres takes. Prisma's adapter needs
 * them separate (it overrides `database` for shadow databases), and a `schema` query parameter
 * becomes the connection's search_path so each test file can live in its own schema.
 */
export function pgConfigFromUrl(url: string): PoolConfig {
  const u = new URL(url);
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new Error(`DATABASE_URL must start with postgres:// or postgresql://, got ${u.protocol}//`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  const config: PoolConfig = {
    host: decodeURIComponent(u.hostname) || "127.0.0.1",
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || "postgres",
    database: database || "postgres",
  };
  if (u.password) config.password = decodeURIComponent(u.password);
  const schema = u.searchParams.get("schema");
  if (schema) config.options = `-c search_path="${schema.replace(/"/g, "")}"`;
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode === "require" || sslmode === "verify-full") {
    config.ssl = { rejectUnauthorized: sslmode === "verify-full" };
  }
  return config;
}
