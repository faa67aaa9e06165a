// A local stand-in for a Slack incoming webhook: records every POST and answers with the status
// the test chooses per request (or never answers, to test deadlines).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  body: { text: string; blocks: unknown[] };
}

export interface Receiver {
  /** The base URL (http://127.0.0.1:port). */
  url: string;
  requests: Received[];
  /** Resolves once `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Waits for a message that names `subject` and whose text matches `headline`; its body as JSON. */
  messageAbout(subject: string, headline: RegExp): Promise<string>;
  close(): Promise<void>;
}

/** `answer(n)` is the status for the n-th request (1-based); null leaves it hanging. */
export async function startReceiver(answer: (n: number) => number | null = () => 200): Promise<Receiver> {
  const requests: Received[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Received["body"] });
      for (const w of waiters) w();
      const status = answer(requests.length);
      if (status === null) {
        hanging.add(res);
        return;
      }
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "no_service");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitFor(n, timeoutMs = 15_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (requests.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the receiver got ${requests.length} of ${n} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async messageAbout(subject, headline) {
      for (let n = 1; ; n++) {
        await receiver.waitFor(n);
        const body = requests[n - 1]?.body;
        if (body && body.text.includes(subject) && headline.test(body.text)) return JSON.stringify(body);
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => {
        resolve();
      }));
    },
  };
  return receiver;
}
