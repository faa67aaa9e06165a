import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { repoRoot } from "./repo-root.js";

export interface OutputLine {
  stream: "stdout" | "stderr";
  text: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TsChild {
  pid: number;
  /** Every line printed so far, both streams interleaved in arrival order. */
  lines: OutputLine[];
  /** Resolves with the first line, already printed or yet to come, that matches. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<Exit>;
  /** The output so far as one string, for assertion messages. */
  output(): string;
}

const live = new Set<TsChild>();
// A test that fails before killing its child must not leave it running after the worker ends.
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/**
 * Runs a TypeScript entry point as a real process (`node --import tsx`), as production runs the
 * services: signals, exit codes and crashes behave for real. `env` is added to this process's
 * environment.
 */
export function spawnTs(entry: string, env: Record<string, string> = {}): TsChild {
  const proc = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (proc.pid === undefined) throw new Error(`could not spawn node for ${entry}`);

  const lines: OutputLine[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const stream of ["stdout", "stderr"] as const) {
    createInterface({ input: proc[stream] }).on("line", (text) => {
      lines.push({ stream, text });
      for (const l of listeners) l(text);
    });
  }

  const exited = new Promise<Exit>((resolve) => {
    proc.once("exit", (code, signal) => { resolve({ code, signal }); });
  });
  const output = (): string => lines.map((l) => `${l.stream === "stderr" ? "! " : "  "}${l.text}`).join("\n");

  const child: TsChild = {
    pid: proc.pid,
    lines,
    output,
    exited,
    kill(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    waitForLine(match, timeoutMs = 15_000) {
      const test = typeof match === "function" ? match : (line: string) => match.test(line);
      const already = lines.find((l) => test(l.text));
      if (already) return Promise.resolve(already.text);
      return new Promise<string>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(onLine);
        };
        const onLine = (line: string): void => {
          if (!test(line)) return;
          done();
          resolve(line);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${String(match)} within ${timeoutMs} ms from ${entry}:\n${output()}`));
        }, timeoutMs);
        listeners.add(onLine);
        void exited.then((exit) => {
          // Let readline deliver the last lines before deciding that none matched.
          setImmediate(() => {
            if (!listeners.has(onLine)) return;
            done();
            reject(new Error(`${entry} exited (${JSON.stringify(exit)}) before printing ${String(match)}:\n${output()}`));
          });
        });
      });
    },
  };
  live.add(child);
  void exited.then(() => live.delete(child));
  return child;
}
