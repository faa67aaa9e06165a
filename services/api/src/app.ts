import helmet from "@fastify/helmet";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { createJsonSchemaTransform, createJsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { IncomingMessage, Server as RawServer, ServerResponse } from "node:http";
import { z } from "zod";
import type { ApiDeps } from "./deps.js";
import { registerDashboard } from "./plugins/dashboard.js";
import { browserGate } from "./plugins/browser-gate.js";
import { requireRole } from "./plugins/auth.js";
import { addPageCsp } from "./plugins/csp.js";
import { answerFrameworkError, errorBody, registerErrorHandling } from "./plugins/errors.js";
import { queueMetricsRoutes } from "./plugins/queue-metrics.js";
import { registerRateLimits } from "./plugins/rate-limits.js";
import { requestIdOf, serializeRequest } from "./plugins/request-log.js";
import { controlRoutes } from "./routes/v1/control.js";
import { decisionRoutes } from "./routes/v1/decisions.js";
import { findingRoutes } from "./routes/v1/findings.js";
import { remediationRoutes } from "./routes/v1/remediations.js";
import { replayRoutes } from "./routes/v1/replay.js";
import { retryRoutes } from "./routes/v1/retry.js";
import { openApiComponents } from "./routes/v1/schemas.js";
import { uiPlugin } from "./ui/plugin.js";

export interface AppOptions {
  bodyLimit: number;
  /** Requests per minute per client address, for requests without a valid token. */
  rateLimitPerMinute: number;
  /** Requests per minute per verified token (default: the per-address limit). */
  tokenRateLimitPerMinute?: number;
  /** Fastify's trustProxy: which proxies' X-Forwarded-For to believe (API_TRUST_PROXY). */
  trustProxy?: boolean | string;
  /** Four-eyes on releases (API_FOUR_EYES). */
  fourEyes?: boolean;
}

/**
 * The API as a Fastify instance, without listening (server.ts does that; tests use inject).
 * Order: external plugins (security headers, rate limit, OpenAPI) → error handling → routes.
 */
export async function buildApp(deps: ApiDeps, options: AppOptions): Promise<FastifyInstance<RawServer, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>> {
  // pino's Logger is Fastify's logger; the annotation only reconciles the two packages' typings.
  // Its `req` serializer keeps tokens a client put in the URL out of the log lines.
  const loggerInstance: FastifyBaseLogger = deps.logger.child({}, { serializers: { req: serializeRequest } });
  const app = Fastify({
    loggerInstance,
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy ?? false,
    // Request ids in every error body and log line; a caller's X-Request-Id is honoured for
    // tracing only when it is a short plain token (requestIdOf), else replaced.
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Above the longest id a route takes (a finding id: 128), so that an id too long is the route's
    // validation error, and the router's own errors answer with the API's error body.
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: answerFrameworkError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(helmet, { contentSecurityPolicy: false });
  // Before any route: an anonymous flood is limited per address, verified tokens per token, probes
  // not at all, and all of it before a route's role check, body parsing or validation.
  await registerRateLimits(app, deps.prisma, {
    anonymousPerMinute: options.rateLimitPerMinute,
    tokenPerMinute: options.tokenRateLimitPerMinute ?? options.rateLimitPerMinute,
  });
  const components = openApiComponents();
  await app.register(swagger, {
    openapi: {
      info: { title: "GuardDuty Responder API", version: "1" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: createJsonSchemaTransform({ schemaRegistry: components }),
    transformObject: createJsonSchemaTransformObject({ schemaRegistry: components }),
  });
  // The docs (page and /docs/json) need a viewer token like the rest: as the Basic password in a
  // browser, or as a bearer token for tools. An encapsulated scope: the gate covers these routes only.
  await app.register(async (docs) => {
    docs.addHook("onRequest", browserGate(deps, { role: "viewer", realm: "guardduty-responder api docs", what: "the API docs" }));
    addPageCsp(docs);
    await docs.register(swaggerUi, { routePrefix: "/docs" });
  });
  registerErrorHandling(app);

  // The one route without a token: liveness for orchestrators and load balancers. It says nothing,
  // costs nothing, and is outside the rate limits (config.probe), so a flood never fails it.
  app.get(
    "/healthz",
    { config: { probe: true }, schema: { security: [], response: { 200: z.object({ status: z.literal("ok") }) } } },
    () => Promise.resolve({ status: "ok" as const }),
  );
  // Readiness names the dependencies and their errors (hosts, ports): a viewer token.
  const readiness = z.object({ status: z.string(), checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })) });
  app.get(
    "/readyz",
    {
      onRequest: requireRole(deps.prisma, "viewer"),
      schema: { summary: "Readiness: Postgres and Redis answer (viewer token)", response: { 200: readiness, 401: errorBody, 403: errorBody, 503: readiness.or(errorBody) } },
    },
    async (_request, reply) => {
      const checks: Record<string, { ok: boolean; error?: string }> = {};
      for (const [name, check] of Object.entries(deps.checks)) {
        try {
          await check();
          checks[name] = { ok: true };
        } catch (err) {
          checks[name] = { ok: false, error: err instanceof Error ? err.message.slice(0, 200) : String(err) };
        }
      }
      const ready = Object.values(checks).every((c) => c.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks });
    },
  );

  await app.register(queueMetricsRoutes(deps));
  await registerDashboard(app, deps);

  await app.register(
    async (v1) => {
      await v1.register(findingRoutes(deps));
      await v1.register(remediationRoutes(deps));
      await v1.register(decisionRoutes(deps, { fourEyes: options.fourEyes ?? false }));
      await v1.register(controlRoutes(deps));
      await v1.register(retryRoutes(deps));
      await v1.register(replayRoutes(deps));
    },
    { prefix: "/v1" },
  );
  await app.register(uiPlugin, { prefix: "/ui" });
  return app;
}
