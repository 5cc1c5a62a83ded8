/**
 * Fixture for no-disruption.test.ts: `flood-client.ts ENDPOINT COUNT PREFIX`
 * pipelines COUNT puts on one DEALER connection as fast as it can, reads
 * every reply, and prints how they ended as one JSON line.
 */
import { encodeRequest } from "../../src/client/client-codec.ts";
import { WireDealer } from "./cluster-wire.ts";

const [endpoint, countText, prefix] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);
const dealer = new WireDealer(endpoint, 60_000);
for (let i = 0; i < count; i++) await dealer.send(encodeRequest({ op: "put", key: `${prefix}/${i}`, value: i, rid: i }));
const outcomes: Record<string, number> = {};
for (let i = 0; i < count; i++) {
  const reply = await dealer.receive();
  const outcome = reply.ok === true ? "ok" : String(reply.error);
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
dealer.close();
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
