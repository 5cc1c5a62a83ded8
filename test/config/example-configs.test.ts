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
import { programEnvironment, programNodeOptions } from "../../src/local-cluster/program-command.ts";

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
    // With node's options for a server (scripts/program-node-options.json), as npm's script and the launchers give them.
    const command = ["node", ...(programNodeOptions.server ?? []), "scripts/run-program.mjs", "server", "--id", String(server.id)];
    assert.ok(compose.includes(`command: ${JSON.stringify(command).replaceAll(",", ", ")}`), `server ${server.id}: ${command.join(" ")}`);
  }
  // With a server's environment variables (scripts/program-environment.json), in the servers' shared block.
  const serverBlock = /\nx-server: &server\n((?: {2}.*\n)*)/.exec(compose)?.[1] ?? "";
  for (const [name, value] of Object.entries(programEnvironment.server ?? {})) {
    assert.ok(serverBlock.includes(`\n    ${name}: ${JSON.stringify(value)}\n`), `the servers run with ${name}=${value}`);
  }
  assert.equal(config.dataDir, "/data");
});

test("the systemd unit of docs/deployment.md starts the server with node's options and the environment for a server", () => {
  const guide = readFileSync(join(repoRoot, "docs", "deployment.md"), "utf8");
  assert.ok(guide.includes(`ExecStart=/usr/bin/node ${(programNodeOptions.server ?? []).join(" ")} scripts/run-program.mjs server`));
  for (const [name, value] of Object.entries(programEnvironment.server ?? {})) assert.ok(guide.includes(`\nEnvironment=${name}=${value}\n`), `${name}=${value}`);
});
