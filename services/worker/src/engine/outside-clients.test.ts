// The outside-client cache: one client per playbook, name, account, region and scope, built once
// even when asked for concurrently, never shared across accounts, closed when the worker stops.
import { createLogger } from "@gdr/core/log";
import { describe, expect, it } from "vitest";
import { createOutsideClients, UnknownOutsideClientError } from "./outside-clients.js";
import type { OutsideClientFactory, Playbook, RemediationRef } from "./step.js";

interface Client {
  id: number;
  target: string;
  open: boolean;
}

function factory(options: { scope?: (t: RemediationRef) => string; failFirst?: boolean } = {}) {
  let made = 0;
  const closed: number[] = [];
  let fail = options.failFirst === true;
  const f: OutsideClientFactory<Client> = {
    ...(options.scope ? { scope: options.scope } : {}),
    create(target) {
      if (fail) {
        fail = false;
        return Promise.reject(new Error("cluster endpoint unreachable"));
      }
      made += 1;
      return Promise.resolve({ id: made, target: `${target.accountId}/${target.region}/${target.resourceKey}`, open: true });
    },
    close(client) {
      client.open = false;
      closed.push(client.id);
      return Promise.resolve();
    },
  };
  return { f, closed, made: () => made };
}

function playbookWith(clients: Record<string, OutsideClientFactory<Client>>): Playbook {
  return { name: "eks-pod", steps: [], release: [], containment: [], isolates: false, families: {}, clients: clients };
}

const ref = (resourceKey: string, accountId = "111122223333", region = "eu-west-1"): RemediationRef => ({
  id: `r-${resourceKey}`,
  findingId: "f",
  accountId,
  region,
  resourceKey,
  playbook: "eks-pod",
  mode: "auto",
});

const logger = createLogger({ level: "silent", name: "test" });
const live = () => new AbortController().signal;

describe("outside clients", () => {
  it("shares one client among targets of one scope, and builds one per scope, account and region", async () => {
    const k8s = factory({ scope: (t) => t.resourceKey.split("/")[0] ?? "" });
    const clients = createOutsideClients(() => playbookWith({ kube: k8s.f }), logger);
    const [a, b] = await Promise.all([clients.get<Client>(ref("prod/ns/pod-a"), "kube", live()), clients.get<Client>(ref("prod/ns/pod-b"), "kube", live())]);
    expect(a).toBe(b);
    expect(k8s.made()).toBe(1);
    const other = await clients.get<Client>(ref("staging/ns/pod-a"), "kube", live());
    const elsewhere = await clients.get<Client>(ref("prod/ns/pod-a", "444455556666"), "kube", live());
    const otherRegion = await clients.get<Client>(ref("prod/ns/pod-a", "111122223333", "us-east-1"), "kube", live());
    expect(new Set([a.id, other.id, elsewhere.id, otherRegion.id]).size).toBe(4);
    expect(elsewhere.target).toBe("444455556666/eu-west-1/prod/ns/pod-a");
  });

  it("without a scope, builds one client per resource", async () => {
    const plain = factory();
    const clients = createOutsideClients(() => playbookWith({ api: plain.f }), logger);
    const a = await clients.get<Client>(ref("one"), "api", live());
    const again = await clients.get<Client>(ref("one"), "api", live());
    const b = await clients.get<Client>(ref("two"), "api", live());
    expect(again).toBe(a);
    expect(b).not.toBe(a);
  });

  it("refuses a name the playbook does not declare, saying which it does", async () => {
    const clients = createOutsideClients(() => playbookWith({ kube: factory().f }), logger);
    const asked = clients.get(ref("x"), "kubernetes", live());
    await expect(asked).rejects.toBeInstanceOf(UnknownOutsideClientError);
    await expect(asked).rejects.toThrow('playbook eks-pod declares no outside client "kubernetes" (it declares: kube)');
    const none = createOutsideClients(() => undefined, logger);
    await expect(none.get(ref("x"), "kube", live())).rejects.toThrow("(it declares none)");
  });

  it("does not keep a client whose creation failed: the next step builds it again", async () => {
    const flaky = factory({ failFirst: true });
    const clients = createOutsideClients(() => playbookWith({ kube: flaky.f }), logger);
    await expect(clients.get(ref("x"), "kube", live())).rejects.toThrow("cluster endpoint unreachable");
    const client = await clients.get<Client>(ref("x"), "kube", live());
    expect(client.open).toBe(true);
  });

  it("gives up waiting when the step's signal aborts, leaving the client to the others", async () => {
    let finish: (c: Client) => void = () => undefined;
    const slow: OutsideClientFactory<Client> = {
      create: () =>
        new Promise<Client>((resolve) => {
          finish = resolve;
        }),
      close: () => Promise.resolve(),
    };
    const clients = createOutsideClients(() => playbookWith({ kube: slow }), logger);
    const stop = new AbortController();
    const first = clients.get(ref("x"), "kube", stop.signal);
    const second = clients.get<Client>(ref("x"), "kube", live());
    stop.abort(new Error("lock lost"));
    await expect(first).rejects.toThrow("lock lost");
    finish({ id: 7, target: "x", open: true });
    expect((await second).id).toBe(7);
  });

  it("closes every client it built on shutdown, and refuses to build more", async () => {
    const a = factory();
    const b = factory();
    const clients = createOutsideClients(() => playbookWith({ a: a.f, b: b.f }), logger);
    const built = [await clients.get<Client>(ref("1"), "a", live()), await clients.get<Client>(ref("2"), "a", live()), await clients.get<Client>(ref("1"), "b", live())];
    await clients.close();
    expect(built.map((c) => c.open)).toEqual([false, false, false]);
    expect(a.closed.sort()).toEqual([1, 2]);
    expect(b.closed).toEqual([1]);
    await expect(clients.get(ref("3"), "a", live())).rejects.toThrow(/stopping/);
  });
});
