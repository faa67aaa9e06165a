import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  host: string;
  port: number;
  /** `url` with its host and port replaced by the proxy's (postgres://…, redis://…). */
  urlThrough(url: string): string;
  /** Drops every open connection and refuses new ones: the server "went away". */
  cut(): void;
  /** Accepts and forwards connections again. */
  restore(): void;
  /** How many client connections are open through the proxy. */
  openConnections(): number;
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 in front of a real server, so a test can make Postgres or Redis vanish
 * for the code under test without stopping the server that every other test file shares.
 */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let isCut = false;

  const server = createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const teardown = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on("error", teardown);
      s.on("close", teardown);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => { resolve(); });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("tcp proxy has no port");
  const port = address.port;

  const dropAll = (): void => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  return {
    host: "127.0.0.1",
    port,
    urlThrough(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    cut() {
      isCut = true;
      dropAll();
    },
    restore() {
      isCut = false;
    },
    openConnections: () => pairs.size,
    async close() {
      isCut = true;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
