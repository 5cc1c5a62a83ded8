/**
 * The example configs in examples/ load, and differ from the built-in
 * default only in what they are examples of.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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

test("deploy/compose-cluster.json loads, and each of its processes has its address in deploy/compose.yaml", () => {
  const config = loadClusterConfig(join(repoRoot, "deploy", "compose-cluster.json"));
  const compose = readFileSync(join(repoRoot, "deploy", "compose.yaml"), "utf8");
  const addressOf = (service: string): string | undefined =>
    new RegExp(`\\n  ${service}:\\n(?:    .*\\n)*?    networks: \\{ zraft: \\{ ipv4_address: ([\\d.]+) \\} \\}`).exec(compose)?.[1];
  assert.equal(config.forwarders.length, 2);
  config.forwarders.forEach((forwarder, index) => {
    assert.equal(new URL(forwarder.pub).hostname, addressOf(`forwarder-${index}`));
    assert.equal(new URL(forwarder.sub).hostname, addressOf(`forwarder-${index}`));
    assert.match(compose, new RegExp(`"forwarder", "--index", "${index}"`));
  });
  for (const server of config.servers) {
    assert.equal(new URL(server.client).hostname, addressOf(`server-${server.id}`), `server ${server.id}`);
    assert.match(compose, new RegExp(`"server", "--id", "${server.id}"\\]`));
  }
  assert.equal(config.dataDir, "/data");
});
