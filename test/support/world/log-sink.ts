// Logs of an in-process service, captured: pino writes JSON lines to any { write }.
export interface LogLine {
  msg?: string;
  level?: number;
  [key: string]: unknown;
}

export interface LogSink {
  lines: LogLine[];
  write(chunk: string): void;
  /** Resolves with the first line, logged already or yet to come, that matches. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  count(match: (line: LogLine) => boolean): number;
}

export function createLogSink(): LogSink {
  const lines: LogLine[] = [];
  const listeners = new Set<(line: LogLine) => void>();
  return {
    lines,
    write(chunk) {
      for (const text of chunk.split("\n")) {
        if (text.trim() === "") continue;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        lines.push(line);
        for (const l of listeners) l(line);
      }
    },
    waitFor(match, what, timeoutMs = 30_000) {
      const already = lines.find(match);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const onLine = (line: LogLine): void => {
          if (!match(line)) return;
          clearTimeout(timer);
          listeners.delete(onLine);
          resolve(line);
        };
        const timer = setTimeout(() => {
          listeners.delete(onLine);
          reject(new Error(`no worker log line for ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(onLine);
      });
    },
    count: (match) => lines.filter(match).length,
  };
}
