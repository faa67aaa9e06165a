import type { Logger } from "./log.js";

export type ShutdownHandler = () => Promise<void>;

export interface Shutdown {
  /** Registers a handler; handlers run last-in-first-out, so register in start-up order. */
  register(name: string, handler: ShutdownHandler): void;
  /** Runs every handler once (idempotent); resolves true when all finished before the deadline. */
  run(reason: string): Promise<boolean>;
  /** Exits the process on SIGTERM/SIGINT after run(); a second signal forces exit(1) at once. */
  installSignalHandlers(exit?: (code: number) => void): void;
  readonly signal: AbortSignal;
}

/**
 * One registry per process. Handlers are closed newest first (API → workers → queues → Prisma),
 * each failure is logged and does not stop the others, and the whole run has a deadline so a hung
 * handler cannot keep a terminating pod alive forever.
 */
export function createShutdown(deps: { logger: Logger; timeoutMs: number }): Shutdown {
  const handlers: { name: string; handler: ShutdownHandler }[] = [];
  const controller = new AbortController();
  let running: Promise<boolean> | undefined;

  async function runAll(reason: string): Promise<boolean> {
    deps.logger.info({ reason }, "shutting down");
    controller.abort(new Error(`shutdown: ${reason}`));
    for (const { name, handler } of [...handlers].reverse()) {
      const started = Date.now();
      try {
        await handler();
        deps.logger.debug({ handler: name, ms: Date.now() - started }, "shutdown handler done");
      } catch (err) {
        deps.logger.error({ err, handler: name }, "shutdown handler failed");
      }
    }
    return true;
  }

  function run(reason: string): Promise<boolean> {
    running ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        deps.logger.error({ timeoutMs: deps.timeoutMs }, "shutdown deadline passed; handlers still running");
        resolve(false);
      }, deps.timeoutMs);
      timer.unref();
      runAll(reason).then(
        (ok) => {
          clearTimeout(timer);
          resolve(ok);
        },
        () => {
          clearTimeout(timer);
          resolve(false);
        },
      );
    });
    return running;
  }

  function installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        deps.logger.warn({ signal }, "second signal: forcing exit");
        exit(1);
        return;
      }
      void run(signal).then((ok) => {
        exit(ok ? 0 : 1);
      });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  return {
    register(name, handler) {
      handlers.push({ name, handler });
    },
    run,
    installSignalHandlers,
    get signal() {
      return controller.signal;
    },
  };
}
