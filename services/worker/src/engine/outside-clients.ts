// The playbooks' outside (non-AWS) clients, e.g. a cluster's Kubernetes API: built on first use
// by the playbook's factory (Playbook.clients), shared by the remediations they serve, and closed
// when the worker stops.
import type { Logger } from "@gdr/core/log";
import type { PlaybookName } from "@gdr/core/queues/playbooks";
import type { OutsideClientFactory, Playbook, RemediationRef } from "./step.js";

export interface OutsideClients {
  /** EngineDeps.outsideClient: the client `name` of the target's playbook, for that target. */
  get<T>(target: RemediationRef, name: string, signal: AbortSignal): Promise<T>;
  /** Closes every client built (worker shutdown); later calls to get are refused. */
  close(): Promise<void>;
}

/** A step asked for a client its playbook does not declare: a bug, never retried. */
export class UnknownOutsideClientError extends Error {
  override readonly name = "UnknownOutsideClientError";
}

interface Entry {
  factory: OutsideClientFactory;
  client: Promise<unknown>;
}

/**
 * Clients are keyed by playbook, client name, account, region and the factory's scope (the
 * resource key when the factory declares none). Account and region always: a client acts with a
 * target account's credentials and a region's endpoint, and one built for another would act in
 * the wrong place. The scope lets a factory share one client between resources behind one
 * endpoint (the pods of one cluster) without the engine knowing what a cluster is.
 */
export function createOutsideClients(playbookFor: (name: PlaybookName) => Playbook | undefined, logger: Logger): OutsideClients {
  const entries = new Map<string, Entry>();
  // A client outlives the job that asked first (others share it): its creation is aborted only
  // when the worker stops, never by one job's lost lock.
  const stopping = new AbortController();

  return {
    async get<T>(target: RemediationRef, name: string, signal: AbortSignal): Promise<T> {
      signal.throwIfAborted();
      if (stopping.signal.aborted) throw new Error(`outside client ${name}: the worker is stopping`);
      const playbook = playbookFor(target.playbook as PlaybookName);
      const factory = playbook?.clients?.[name];
      if (!factory) {
        const declared = Object.keys(playbook?.clients ?? {});
        throw new UnknownOutsideClientError(
          `playbook ${target.playbook} declares no outside client "${name}" (${declared.length > 0 ? `it declares: ${declared.join(", ")}` : "it declares none"})`,
        );
      }
      const key = JSON.stringify([target.playbook, name, target.accountId, target.region, factory.scope ? factory.scope(target) : target.resourceKey]);
      let entry = entries.get(key);
      if (!entry) {
        const made: Entry = { factory, client: factory.create(target, stopping.signal) };
        entries.set(key, made);
        // A creation that failed is not kept: the next step that asks builds the client again.
        made.client.catch(() => {
          if (entries.get(key) === made) entries.delete(key);
        });
        entry = made;
      }
      // The factory's client type is the step's to know (it names the client it asks for).
      return (await untilAborted(entry.client, signal)) as T;
    },

    async close(): Promise<void> {
      stopping.abort(new Error("worker stopping"));
      const all = [...entries.entries()];
      entries.clear();
      await Promise.all(
        all.map(async ([key, entry]) => {
          let client: unknown;
          try {
            client = await entry.client;
          } catch {
            return; // never built: nothing to close
          }
          try {
            await entry.factory.close(client);
          } catch (err) {
            logger.warn({ client: key, err: { message: err instanceof Error ? err.message : String(err) } }, "outside client did not close cleanly");
          }
        }),
      );
    },
  };
}

/** The promise's value, or the signal's reason once it aborts (the client stays cached for others). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
