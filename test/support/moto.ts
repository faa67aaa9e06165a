import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "./ports.js";
import { motoServerPath } from "./repo-root.js";
import { waitUntil } from "./wait.js";

export interface Moto {
  /** http://127.0.0.1:<port>, for SDK clients' `endpoint` and AWS_ENDPOINT_URL. */
  endpoint: string;
  /** Forgets every resource (POST /moto-api/reset); cheaper than a new server per test. */
  reset(): Promise<void>;
  /** SIGTERM, then waits for the process to exit (SIGKILL if it has not after 5 s). */
  stop(): Promise<void>;
}

const READY_ATTEMPTS = 300; // × 100 ms: moto usually answers within a second
const START_TRIES = 3; // the free port can be taken between freePort() and moto binding it

/** Starts a moto server of this test file's own, so that files run in parallel without sharing. */
export async function startMoto(): Promise<Moto> {
  if (!existsSync(motoServerPath)) {
    throw new Error(`${motoServerPath} is missing: run bash scripts/ensure-moto.sh`);
  }
  let lastError: unknown;
  for (let i = 0; i < START_TRIES; i++) {
    try {
      return await startOnce(await freePort());
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(port: number): Promise<Moto> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(motoServerPath, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  // A worker that ends without calling stop() must not leave moto running.
  const killOnExit = (): void => { child.kill("SIGKILL"); };
  process.once("exit", killOnExit);

  const stop = async (): Promise<void> => {
    process.off("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntil(async () => {
      if (hasExited(child)) throw new Error(`moto_server exited during start:\n${stderr}`);
      return (await fetchOk(`${endpoint}/moto-api/`, "GET")) ? true : false;
    }, { attempts: READY_ATTEMPTS, intervalMs: 100, what: `moto_server on ${endpoint} to answer` });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    endpoint,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
      await res.body?.cancel();
    },
    stop,
  };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function fetchOk(url: string, method: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method, signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
