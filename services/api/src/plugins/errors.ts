import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { unavailableInfrastructure } from "@gdr/core/db/errors";
import { z } from "zod";

/** Every error the API answers has this body: a stable code, words for a person, and the request id. */
export const errorBody = z.object({ error: z.string(), message: z.string(), requestId: z.string() });

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One error shape for validation errors, our own errors, 404s and anything unexpected (no stack leaks). */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const requestId = request.id;
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, requestId });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const detail = err.validation.map((v) => `${v.instancePath || "(body)"} ${v.message ?? "is invalid"}`).join("; ");
      return reply.code(400).send({ error: "invalid_request", message: detail, requestId });
    }
    // Postgres or Redis away (after a successful start): the request may succeed later, so a 503
    // that says so, not a 500; /readyz answers the same while the token check cannot reach Postgres.
    const away = unavailableInfrastructure(err);
    if (away) {
      request.log.warn({ err: { message: err.message }, dependency: away }, "dependency unavailable");
      return reply.code(503).send({ error: "unavailable", message: `${away} cannot be reached; retry shortly`, requestId });
    }
    const status = typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, "request failed");
    const message = status >= 500 ? "internal error; see the server log with this request id" : err.message;
    return reply.code(status).send({ error: status >= 500 ? "internal" : (err.code || "bad_request").toLowerCase(), message, requestId });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: "not_found", message: `no route ${request.method} ${request.url.split("?")[0] ?? ""}`, requestId: request.id }),
  );
}

/**
 * Fastify's `frameworkErrors`: errors its router raises before any hook (a malformed URL, a path
 * parameter longer than the router's bound). The same error body as everything else, and no echo
 * of the URL (it may carry a token someone put there).
 */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  const message = err.code === "FST_ERR_MAX_PARAM_LENGTH" ? "a path parameter is too long" : "the request URL is malformed";
  // The reply is thenable; nothing awaits a framework error's answer.
  void reply.code(status).send({ error: "invalid_request", message, requestId: request.id });
}
