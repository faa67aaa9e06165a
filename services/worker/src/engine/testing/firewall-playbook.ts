// For the engine's unit tests only: a small playbook that needs no AWS. Its resource sits behind
// an in-memory "firewall" reached through an outside client (Playbook.clients): `look` reads it,
// `block` contains the resource through ctx.changeOutside, `unblock` releases it. Optional steps
// exercise the engine's other paths (evidence after containment, a destructive step, an API that
// is not available, a final check). The firewall records every change that reaches it, so a test
// can hold what was sent against what a person approved.
import { z } from "zod";
import type { BucketSpecs } from "../limits/token-bucket.js";
import {
  EscalateRemediation,
  notAvailable,
  SkipRemediation,
  VerificationError,
  type Json,
  type JsonObject,
  type OutsideClientFactory,
  type Playbook,
  type Step,
  type StepContext,
} from "../step.js";

export interface FirewallEntry {
  blocked: boolean;
  ruleId: string | null;
  /** Who owns the resource: `root` is what the playbook must not act on (it escalates). */
  owner: string;
  exempt: boolean;
  wiped: boolean;
}

/** A change that reached the firewall: what an approver's plan must have listed. */
export interface SentChange {
  service: string;
  operation: string;
  params: JsonObject;
}

/** The firewall itself, shared by every client built for it. */
export class Firewall {
  readonly resources = new Map<string, FirewallEntry>();
  readonly sent: SentChange[] = [];
  /** Operations the firewall refuses (AccessDenied), as a permission it lacks would. */
  readonly denied = new Set<string>();
  private rules = 0;

  add(resource: string, entry: Partial<FirewallEntry> = {}): void {
    this.resources.set(resource, { blocked: false, ruleId: null, owner: "app", exempt: false, wiped: false, ...entry });
  }

  entry(resource: string): FirewallEntry | undefined {
    return this.resources.get(resource);
  }

  change(operation: string, params: JsonObject): FirewallEntry {
    if (this.denied.has(operation)) throw Object.assign(new Error(`${operation} is not permitted`), { name: "AccessDenied" });
    this.sent.push({ service: "firewall", operation, params: structuredClone(params) });
    const resource = typeof params["resource"] === "string" ? params["resource"] : "";
    const entry = this.resources.get(resource);
    if (!entry) throw Object.assign(new Error(`no resource ${resource}`), { name: "ResourceNotFound" });
    return entry;
  }

  nextRuleId(): string {
    this.rules += 1;
    return `rule-${this.rules}`;
  }
}

/** The outside client a step gets from ctx.client("firewall"). */
export interface FirewallClient {
  readonly target: string;
  describe(resource: string): Promise<FirewallEntry | null>;
  block(resource: string, reason: string): Promise<{ ruleId: string }>;
  unblock(resource: string, ruleId: string): Promise<void>;
  wipe(resource: string): Promise<void>;
}

/** The factory a playbook declares; counts what it built and closed. */
export function firewallClients(firewall: Firewall): OutsideClientFactory<FirewallClient> & { created: string[]; closed: string[] } {
  const created: string[] = [];
  const closed: string[] = [];
  return {
    created,
    closed,
    // One firewall per account and region: resources share a client.
    scope: () => "firewall",
    create(target) {
      const name = `${target.accountId}/${target.region}`;
      created.push(name);
      let open = true;
      const alive = (): void => {
        if (!open) throw new Error(`firewall client ${name} used after close`);
      };
      const client: FirewallClient & { close(): void } = {
        target: name,
        describe(resource) {
          alive();
          const entry = firewall.entry(resource);
          return Promise.resolve(entry ? { ...entry } : null);
        },
        block(resource, reason) {
          alive();
          const entry = firewall.change("Block", { resource, reason });
          entry.blocked = true;
          entry.ruleId = firewall.nextRuleId();
          return Promise.resolve({ ruleId: entry.ruleId });
        },
        unblock(resource, ruleId) {
          alive();
          const entry = firewall.change("Unblock", { resource, ruleId });
          if (entry.ruleId !== ruleId) throw Object.assign(new Error(`rule ${ruleId} is not on ${resource}`), { name: "RuleNotFound" });
          entry.blocked = false;
          entry.ruleId = null;
          return Promise.resolve();
        },
        wipe(resource) {
          alive();
          firewall.change("Wipe", { resource }).wiped = true;
          return Promise.resolve();
        },
        close() {
          open = false;
          closed.push(name);
        },
      };
      return Promise.resolve(client);
    },
    close(client) {
      (client as FirewallClient & { close(): void }).close();
      return Promise.resolve();
    },
  };
}

export const FIREWALL_FAMILIES: BucketSpecs = {
  "firewall-read": { capacity: 10, refillPerSecond: 5 },
  "firewall-write": { capacity: 5, refillPerSecond: 1 },
};

async function firewall(ctx: StepContext): Promise<FirewallClient> {
  return ctx.client<FirewallClient>("firewall");
}

async function describe(ctx: StepContext): Promise<FirewallEntry | null> {
  await ctx.throttle("firewall-read");
  return (await firewall(ctx)).describe(ctx.remediation.resourceKey);
}

const lookOutput = z.object({ resource: z.string(), owner: z.string(), exempt: z.boolean() });

/** Read-only: identifies the resource; a root-owned one is escalated, an exempt one held for a person. */
export const look: Step = {
  name: "look",
  destructive: false,
  readOnly: true,
  output: lookOutput,
  check: () => Promise.resolve({ done: false }),
  async act(ctx) {
    const entry = await describe(ctx);
    if (!entry) throw new SkipRemediation("resource_gone", `${ctx.remediation.resourceKey} is not behind the firewall`);
    if (entry.owner === "root") throw new EscalateRemediation(`${ctx.remediation.resourceKey} belongs to root, which this playbook does not act on`, "root-owned resource");
    return { resource: ctx.remediation.resourceKey, owner: entry.owner, exempt: entry.exempt };
  },
  verify: () => Promise.resolve(),
  holdFor(output) {
    const parsed = lookOutput.safeParse(output);
    return parsed.success && parsed.data.exempt ? "the resource is marked exempt" : null;
  },
};

const ruleOutput = z.object({ ruleId: z.string() });

/** Contains the resource: one Block call through the outside client. */
export const block: Step = {
  name: "block",
  destructive: false,
  output: ruleOutput,
  async check(ctx) {
    const entry = await describe(ctx);
    return entry?.blocked && entry.ruleId ? { done: true, output: { ruleId: entry.ruleId } } : { done: false };
  },
  async act(ctx) {
    const client = await firewall(ctx);
    const resource = ctx.remediation.resourceKey;
    const reason = `finding ${ctx.tags.findingId}`;
    const { ruleId } = await ctx.changeOutside({
      service: "firewall",
      family: "firewall-write",
      operation: "Block",
      params: { resource, reason },
      planned: { ruleId: "<ruleId of Block>" },
      send: () => client.block(resource, reason),
    });
    return { ruleId };
  },
  async verify(ctx) {
    if (!(await describe(ctx))?.blocked) throw new VerificationError("the resource is not blocked");
  },
};

function ruleOf(outputs: ReadonlyMap<string, Json>): string {
  const parsed = ruleOutput.safeParse(outputs.get("block"));
  if (!parsed.success) throw new Error("block recorded no rule id");
  return parsed.data.ruleId;
}

/** Release: removes exactly the rule block added. */
export const unblock: Step = {
  name: "unblock",
  destructive: false,
  output: z.object({ removed: z.string() }),
  async check(ctx) {
    const entry = await describe(ctx);
    return entry && !entry.blocked ? { done: true, output: { removed: ruleOf(ctx.outputs) } } : { done: false };
  },
  async act(ctx) {
    const client = await firewall(ctx);
    const resource = ctx.remediation.resourceKey;
    const ruleId = ruleOf(ctx.outputs);
    await ctx.changeOutside({ service: "firewall", family: "firewall-write", operation: "Unblock", params: { resource, ruleId }, send: () => client.unblock(resource, ruleId) });
    return { removed: ruleId };
  },
  async verify(ctx) {
    if ((await describe(ctx))?.blocked) throw new VerificationError("the resource is still blocked");
  },
};

/** Evidence after containment that the firewall cannot give: recorded `unavailable`. */
export const capture: Step = {
  name: "capture",
  destructive: false,
  output: z.object({ capture: z.null() }),
  check: () => Promise.resolve({ done: false }),
  act: () => Promise.resolve(notAvailable("Capture is not available for this firewall", { capture: null })),
  verify: () => Promise.resolve(),
};

/** The final check: finds the block in place, recorded `verified`. */
export const confirm: Step = {
  name: "confirm",
  destructive: false,
  checkOnly: true,
  output: z.object({ blocked: z.literal(true) }),
  async check(ctx) {
    return (await describe(ctx))?.blocked ? { done: true, output: { blocked: true } } : { done: false };
  },
  act: () => Promise.reject(new VerificationError("the resource is not blocked")),
  verify: () => Promise.resolve(),
};

/** Destructive: waits for a person in every mode. */
export const wipe: Step = {
  name: "wipe",
  destructive: true,
  output: z.object({ wiped: z.string() }),
  async check(ctx) {
    return (await describe(ctx))?.wiped ? { done: true, output: { wiped: ctx.remediation.resourceKey } } : { done: false };
  },
  async act(ctx) {
    const client = await firewall(ctx);
    const resource = ctx.remediation.resourceKey;
    await ctx.changeOutside({ service: "firewall", family: "firewall-write", operation: "Wipe", params: { resource }, send: () => client.wipe(resource) });
    return { wiped: resource };
  },
  verify: () => Promise.resolve(),
};

/** A step whose act returns an output its schema refuses (a bug in the step). */
export const miscount: Step = {
  name: "miscount",
  destructive: false,
  readOnly: true,
  output: z.object({ count: z.number() }),
  check: () => Promise.resolve({ done: false }),
  act: () => Promise.resolve({ count: "three" }),
  verify: () => Promise.resolve(),
};

/**
 * The playbook: `look` and `block` (containment), then whatever else a test needs. It is run on
 * the `container` queue, which no production playbook uses yet.
 */
export function firewallPlaybook(factory: OutsideClientFactory<FirewallClient>, after: readonly Step[] = [], before: readonly Step[] = []): Playbook {
  return {
    name: "container",
    steps: [...before, look, block, ...after],
    release: [unblock],
    containment: ["block"],
    isolates: true,
    families: FIREWALL_FAMILIES,
    clients: { firewall: factory },
  };
}
