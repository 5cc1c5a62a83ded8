/**
 * The config's optional `snapshot` section (docs/protocol.md §2): counts of
 * at least 1 (keepEntries at least 0), unknown fields refused as everywhere,
 * and absent fields left to the server's defaults.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, UnknownFieldError, validateClusterConfig } from "../../src/config/cluster-config.ts";

const load = (snapshot: unknown) => validateClusterConfig({ snapshot }, "cluster.json");

test("the snapshot section: given fields kept, absent ones left out for the server's defaults", () => {
  assert.deepEqual(load({ entries: 500, keepEntries: 0 }).snapshot, { entries: 500, keepEntries: 0 });
  assert.deepEqual(load({}).snapshot, {});
  assert.equal(validateClusterConfig({}, "cluster.json").snapshot, undefined);
});

test("the snapshot section: out-of-range values and unknown fields are refused with the field named", () => {
  for (const [snapshot, field] of [
    [{ entries: 0 }, "snapshot.entries"],
    [{ logBytes: 1.5 }, "snapshot.logBytes"],
    [{ keepEntries: -1 }, "snapshot.keepEntries"],
    [{ entries: "10" }, "snapshot.entries"],
    [[], "snapshot"],
  ] as const) {
    assert.throws(() => load(snapshot), (error: unknown) => error instanceof ConfigError && error.message.includes(field), JSON.stringify(snapshot));
  }
  assert.throws(() => load({ entry: 5 }), (error: unknown) => error instanceof UnknownFieldError && /snapshot\.entry.*entries/.test(error.message));
});
