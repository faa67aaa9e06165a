import type { FastifyInstance } from "fastify";

/**
 * Content-Security-Policy of the pages served by libraries (Swagger UI at /docs, bull-board at
 * /admin/queues). Both load their scripts from this origin only and run no inline script, so
 * scripts are `'self'`; both set inline styles (React style attributes, a loading animation), so
 * styles allow `'unsafe-inline'`. Nothing loads from other origins: bull-board's Google Fonts
 * stylesheet is refused on purpose (an admin page that calls out to a third party tells it who is
 * looking at the queues, and when); the page falls back to local fonts. No framing, no plugins,
 * no forms posting elsewhere.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Sets PAGE_CSP on every answer of the scope (the pages, their assets, and their 401s). */
export function addPageCsp(scope: FastifyInstance): void {
  scope.addHook("onSend", async (_request, reply, payload) => {
    reply.header("content-security-policy", PAGE_CSP);
    return payload;
  });
}
