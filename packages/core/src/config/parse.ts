import { z } from "zod";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`);
  }
}

/**
 * Parses environment variables once, at start-up, reporting every problem at once so an operator
 * fixes a deployment in one pass, not one variable per crash loop. The result is frozen.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): Readonly<z.infer<S>> {
  // Empty strings are treated as unset: `FOO=` in a compose file or a .env should mean "default".
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== "") cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join(".") || "(environment)";
        const present = issue.path.length === 1 && typeof issue.path[0] === "string" && issue.path[0] in cleaned;
        return present ? `${key}: ${issue.message}` : `${key}: ${issue.message} (it is not set)`;
      }),
    );
  }
  return Object.freeze(result.data);
}
