import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * The approval page: three static files, no build step, no CDN. The page carries no data, so it
 * loads without a token; every data call it makes sends the bearer token the person pasted, and
 * the /v1 routes enforce the roles as for any other client.
 */

/** Strict: own-origin scripts, styles and fetches only; no inline script, no framing, no forms posting elsewhere. */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const FILES = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
} as const;
type UiFile = keyof typeof FILES;

/** Serves /ui/ (the page), /ui/app.js, /ui/style.css and /ui/favicon.svg. Register with `{ prefix: "/ui" }`. */
export async function uiPlugin(app: FastifyInstance): Promise<void> {
  // Read once at registration, not at import: a missing file fails the start, not a request.
  const dir = fileURLToPath(new URL("./static/", import.meta.url));
  const bodies = new Map<UiFile, Buffer>();
  for (const name of Object.keys(FILES) as UiFile[]) bodies.set(name, readFileSync(`${dir}${name}`));

  const send = (reply: FastifyReply, name: UiFile): FastifyReply =>
    reply
      .header("content-type", FILES[name])
      .header("content-security-policy", UI_CSP)
      // Revalidate each time: an approver must never act on a stale copy of the page's code.
      .header("cache-control", "no-cache")
      .send(bodies.get(name));

  // hide: static files, not part of the API's OpenAPI document.
  app.get("/", { schema: { hide: true } }, (_request, reply) => send(reply, "index.html"));
  app.get("/app.js", { schema: { hide: true } }, (_request, reply) => send(reply, "app.js"));
  app.get("/style.css", { schema: { hide: true } }, (_request, reply) => send(reply, "style.css"));
  app.get("/favicon.svg", { schema: { hide: true } }, (_request, reply) => send(reply, "favicon.svg"));
  return Promise.resolve();
}
