// `npm run bench:parse [-- --messages N]`: what ingest's parser costs per message (size cap, the
// linear scan for depth and repeated keys, hostile keys, envelope, zod schema, identifier
// patterns), next to the floor any consumer pays for the same bodies (JSON.parse alone), and their
// ratio. Pure CPU: no service is touched. Best of 5 rounds over the same bodies.
import { parseArgs } from "node:util";
import { DEFAULT_PARSE_OPTIONS, parseMessageBody } from "@gdr/core/findings/index";
import { eventBridgeEvent, instanceFinding } from "@gdr/samples/findings";

const { values } = parseArgs({ options: { messages: { type: "string", default: "20000" } } });
const total = Number(values.messages);
const bodies = Array.from({ length: total }, (_, i) => JSON.stringify(eventBridgeEvent(instanceFinding({ seed: String(i), eniCount: 2 }))));

/** Best of 5 rounds, in microseconds per message. */
function perMessage(parse: (body: string) => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (const body of bodies) parse(body);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1_000);
  }
  return best / bodies.length;
}

const rejected = bodies.filter((b) => parseMessageBody(b, DEFAULT_PARSE_OPTIONS).status !== "finding").length;
if (rejected > 0) throw new Error(`${rejected} sample bodies were rejected: the benchmark would measure the wrong path`);
const floor = perMessage((b) => JSON.parse(b));
const full = perMessage((b) => parseMessageBody(b, DEFAULT_PARSE_OPTIONS));
const bytes = Math.round(bodies.reduce((n, b) => n + b.length, 0) / bodies.length);
console.log(`bench:parse: ${total} EventBridge instance findings, ${bytes} bytes each, best of 5 rounds`);
console.log(`  JSON.parse alone (floor):  ${floor.toFixed(1)} µs per message`);
console.log(`  parseMessageBody (ingest): ${full.toFixed(1)} µs per message (${Math.round(1e6 / full)} messages/s on one core)`);
console.log(`  ratio: ${(full / floor).toFixed(1)}x the floor`);
