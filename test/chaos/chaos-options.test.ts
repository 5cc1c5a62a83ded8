/**
 * The command line of `npm run chaos` (src/chaos/chaos-options.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/args.ts";
import { faultKinds, parseChaosOptions } from "../../src/chaos/chaos-options.ts";

test("chaos options: defaults, the fault list, and the number of forwarders", () => {
  assert.deepEqual(parseChaosOptions([], () => 9), { seconds: 60, clients: 10, keys: 10, faults: [...faultKinds], seed: 9, forwarders: 1, snapshotEvery: 300, keepDir: undefined });
  const options = parseChaosOptions(["--faults", "partition,forwarder", "--forwarders", "2", "--seed", "4"]);
  assert.ok(options !== "help");
  assert.deepEqual(options.faults, ["partition", "forwarder"]);
  assert.equal(options.forwarders, 2);
  assert.throws(() => parseChaosOptions(["--forwarders", "4"]), UsageError);
  assert.throws(() => parseChaosOptions(["--forwarders", "0"]), UsageError);
  assert.throws(() => parseChaosOptions(["--faults", "meteor"]), /"meteor" is not one of/);
});
