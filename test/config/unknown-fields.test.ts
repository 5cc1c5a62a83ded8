/**
 * Proves that a config typo is refused instead of silently read as the
 * default (docs/protocol.md §2): an unknown field at any level (the top,
 * a forwarder or server entry, the curve section) stops the program with one
 * line that names the field and suggests the closest known one, and exit
 * code 2, through the path every program takes (configFromArgs,
 * reportCommandLineError). And that every config the project ships or
 * generates still loads: the built-in default, the README's and
 * docs/protocol.md's examples, and a local cluster's generated file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { curveKeyPair } from "zeromq";
import { ConfigError, UnknownFieldError, defaultClusterConfig, validateClusterConfig } from "../../src/config/cluster-config.ts";
import { closestName, editDistance } from "../../src/config/closest-name.ts";
import { configFromArgs, reportCommandLineError } from "../../src/cli/args.ts";
import { createClusterDirectory } from "../../src/local-cluster/cluster-directory.ts";
import { repoRoot, runCommand } from "../e2e/harness.ts";

/** The ConfigError `validateClusterConfig` refuses `document` with: one line, exit code 2. */
function refused(document: unknown): ConfigError {
  try {
    validateClusterConfig(document, "cluster.json");
  } catch (error) {
    assert.ok(error instanceof ConfigError && error.exitCode === 2, String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error;
  }
  return assert.fail(`${JSON.stringify(document)} was accepted`);
}

const refusal = (document: unknown): string => refused(document).message;

test("edit distance counts insertions, deletions, substitutions and swapped neighbours", () => {
  assert.equal(editDistance("heartbeatMs", "heartbeatMs"), 0);
  assert.equal(editDistance("hearbeatMs", "heartbeatMs"), 1);
  assert.equal(editDistance("haertbeatMs", "heartbeatMs"), 1, "a swap is one edit");
  assert.equal(editDistance("heartbeatMS", "heartbeatMs"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(closestName("hearbeatMs", ["servers", "heartbeatMs", "dataDir"]), "heartbeatMs");
  assert.equal(closestName("heartbeat_ms", ["heartbeatMs"]), "heartbeatMs", "case, underscores and dashes cost nothing");
  assert.equal(closestName("election", ["electionTimeoutMs", "heartbeatMs"]), "electionTimeoutMs", "a name cut short");
  assert.equal(closestName("datadir", ["dataDir", "servers"]), "dataDir");
  assert.equal(closestName("colour", ["id", "client"]), undefined, "nothing close");
});

test("an unknown top-level field is refused with the closest known one", () => {
  assert.equal(refusal({ hearbeatMs: 50 }), 'config cluster.json: unknown field "hearbeatMs" (did you mean "heartbeatMs"?)');
  assert.equal(refusal({ electionTimeout: [150, 300] }), 'config cluster.json: unknown field "electionTimeout" (did you mean "electionTimeoutMs"?)');
  assert.equal(refusal({ data_dir: "./d" }), 'config cluster.json: unknown field "data_dir" (did you mean "dataDir"?)');
  assert.equal(
    refusal({ replicas: 5 }),
    'config cluster.json: unknown field "replicas" (the fields here are forwarders, servers, electionTimeoutMs, heartbeatMs, dataDir, curve, snapshot)',
  );
  // JSON.parse makes "__proto__" an own field: it is refused like any other, and pollutes nothing.
  assert.match(refusal(JSON.parse('{"__proto__": {"heartbeatMs": 1}}')), /unknown field "__proto__"/);
});

test("an unknown field in a server entry, a forwarder entry or the curve section is refused with its path", () => {
  const servers = defaultClusterConfig().servers.map((server) => ({ ...server }));
  assert.equal(
    refusal({ servers: [servers[0], { id: 2, clinet: "tcp://127.0.0.1:5001" }] }),
    'config cluster.json: unknown field "servers[1].clinet" (did you mean "client"?)',
  );
  assert.equal(refusal({ servers: [{ ID: 1, client: "tcp://127.0.0.1:5000" }] }), 'config cluster.json: unknown field "servers[0].ID" (did you mean "id"?)');
  assert.equal(
    refusal({ servers: [{ id: 1, client: "tcp://127.0.0.1:5000", host: "a" }] }),
    'config cluster.json: unknown field "servers[0].host" (the fields here are id, client)',
  );
  assert.equal(
    refusal({ forwarders: [{ pub: "tcp://127.0.0.1:5011", sub: "tcp://127.0.0.1:5012", pubb: "tcp://127.0.0.1:5013" }] }),
    'config cluster.json: unknown field "forwarders[0].pubb" (did you mean "pub"?)',
  );
  const cluster = curveKeyPair();
  // A misspelt clients would otherwise admit every client.
  assert.equal(
    refusal({ curve: { ...cluster, client: [curveKeyPair().publicKey] } }),
    'config cluster.json: unknown field "curve.client" (did you mean "clients"?)',
  );
  assert.ok(refused({ curve: { ...cluster, secretkey: cluster.secretKey } }) instanceof UnknownFieldError);
});

test("a config with an unknown field stops a program with one line and exit code 2", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-config-typo-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "cluster.json");
  writeFileSync(path, JSON.stringify({ hearbeatMs: 50 }));
  const expected = `config ${path}: unknown field "hearbeatMs" (did you mean "heartbeatMs"?)`;

  // The path every program takes: configFromArgs, then reportCommandLineError.
  const stderr = new PassThrough();
  let written = "";
  stderr.on("data", (chunk: Buffer) => (written += chunk.toString()));
  let exitCode: number | undefined;
  try {
    configFromArgs({ flags: new Set(), values: new Map([["config", path]]), positionals: [] });
  } catch (error) {
    exitCode = reportCommandLineError("zraft", error, "usage", stderr);
  }
  assert.equal(exitCode, 2);
  assert.equal(written, `zraft: ${expected}\n`);

  // And a real program: the one-shot client, before it connects to anything.
  const result = await runCommand(["client/main.ts", "--config", path, "get", "k"]);
  assert.equal(result.code, 2, result.stderr);
  // One line: the program's name, then the config error.
  assert.match(result.stderr, /^[^\n]+\n$/);
  assert.ok(result.stderr.endsWith(`: ${expected}\n`), result.stderr);
});

test("every config the project ships or generates loads", async (t) => {
  // The built-in default, written out as a file would hold it.
  assert.deepEqual(validateClusterConfig(JSON.parse(JSON.stringify(defaultClusterConfig())), "default.json"), defaultClusterConfig());
  // The complete examples of the README and docs/protocol.md (the curve fragment of §10 is not a whole file).
  let examples = 0;
  for (const doc of ["README.md", "docs/protocol.md"]) {
    const text = readFileSync(join(repoRoot, doc), "utf8");
    for (const [, block] of text.matchAll(/```json\n([\s\S]*?)```/g)) {
      if (!(block as string).trimStart().startsWith("{")) continue;
      validateClusterConfig(JSON.parse(block as string), doc);
      examples += 1;
    }
    // Inline config examples such as the README's fast profile, `{ "electionTimeoutMs": [50, 100], "heartbeatMs": 10 }` (not key files).
    for (const [, inline] of text.matchAll(/`(\{ "(?:electionTimeoutMs|heartbeatMs)"[^`]*\})`/g)) {
      validateClusterConfig(JSON.parse(inline as string), doc);
      examples += 1;
    }
  }
  assert.ok(examples >= 3, `${examples} examples found`);
  // A local cluster's generated file (benchmarks, the chaos run, end-to-end tests), with every option it takes.
  const keys = curveKeyPair();
  const generated = await createClusterDirectory({ servers: 3, forwarders: 2, electionTimeoutMs: [50, 100], heartbeatMs: 10, extraConfig: { curve: keys } }, "zraft-config-check-");
  t.after(() => rmSync(generated.dir, { recursive: true, force: true }));
  assert.deepEqual(validateClusterConfig(JSON.parse(readFileSync(generated.configPath, "utf8")), generated.configPath), generated.config);
});
