/**
 * The example configs in examples/ load, and differ from the built-in
 * default only in what they are examples of.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadClusterConfig } from "../../src/config/cluster-config.ts";
import { repoRoot } from "../../src/local-cluster/index.ts";

test("examples/two-forwarders.json is the default cluster with a second forwarder", () => {
  const example = loadClusterConfig(join(repoRoot, "examples", "two-forwarders.json"));
  const builtIn = loadClusterConfig(undefined);
  assert.equal(example.forwarders.length, 2);
  assert.deepEqual(example.forwarders[0], builtIn.forwarders[0]);
  assert.deepEqual({ ...example, forwarders: [], dataDir: "" }, { ...builtIn, forwarders: [], dataDir: "" });
});
