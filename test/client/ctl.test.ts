/**
 * Proves `npm run ctl` in this release (docs/protocol.md §1, §10): `keygen`
 * prints a fresh CURVE key pair as JSON whose halves belong together;
 * `keygen --config-out FILE` writes a copy of the current config with a new
 * cluster key pair (other fields and `curve.clients` kept), readable by its
 * owner only, that every program accepts, and never overwrites a file;
 * `--help` lists every command; an unknown command or server id is a usage
 * error (exit 2). `client/ctl.ts` and `npm run ctl --` are `zraft ctl`: the
 * zraft command with messages that start "zraft ctl:".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curveKeyPair } from "zeromq";
import { validateClusterConfig } from "../../src/config/cluster-config.ts";
import { curvePublicKeyOf } from "../../src/config/curve-keys.ts";
import { runCommand } from "../e2e/harness.ts";

const ctl = (...args: string[]) => runCommand(["client/ctl.ts", ...args], { env: { ZRAFT_CONFIG: "" } });

test("keygen prints a new key pair as JSON, a different one each time", async () => {
  const [first, second] = await Promise.all([ctl("keygen"), ctl("keygen")]);
  for (const result of [first, second]) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
  }
  const pair = JSON.parse(first.stdout) as { publicKey: string; secretKey: string };
  assert.deepEqual(Object.keys(pair), ["publicKey", "secretKey"]);
  assert.equal(curvePublicKeyOf(pair.secretKey), pair.publicKey);
  assert.notEqual((JSON.parse(second.stdout) as { publicKey: string }).publicKey, pair.publicKey);
});

test("keygen --config-out writes the config with a new cluster key pair, private, and never overwrites", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-ctl-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const oldCluster = curveKeyPair();
  const client = curveKeyPair();
  const source = join(dir, "cluster.json");
  writeFileSync(source, JSON.stringify({ heartbeatMs: 40, dataDir: "/var/zraft", curve: { ...oldCluster, clients: [client.publicKey] } }));
  const out = join(dir, "secure.json");

  const written = await ctl("keygen", "--config", source, "--config-out", out);
  assert.equal(written.code, 0, written.stderr);
  assert.match(written.stdout, /npm start -- --config .*secure\.json/);
  assert.equal(statSync(out).mode & 0o777, 0o600, "only its owner can read the secret key");
  const config = validateClusterConfig(JSON.parse(readFileSync(out, "utf8")), out);
  assert.equal(config.heartbeatMs, 40);
  assert.equal(config.dataDir, "/var/zraft");
  assert.notEqual(config.curve?.publicKey, oldCluster.publicKey, "a new cluster key pair");
  assert.deepEqual(config.curve?.clients, [client.publicKey], "the client list is kept");

  const before = readFileSync(out, "utf8");
  const again = await ctl("keygen", "--config-out", out);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^zraft ctl: cannot write .*secure\.json: it exists already, and is not overwritten/);
  assert.equal(readFileSync(out, "utf8"), before);

  const builtIn = join(dir, "from-default.json");
  assert.equal((await ctl("keygen", "--config-out", builtIn)).code, 0);
  assert.equal(validateClusterConfig(JSON.parse(readFileSync(builtIn, "utf8")), builtIn).servers.length, 5, "a copy of the built-in cluster");
});

test("--help lists every command; an unknown command or server id is a usage error (exit 2)", async () => {
  const [help, unknown, none, stray, badId, missingId] = await Promise.all([
    ctl("--help"),
    ctl("frobnicate"),
    ctl(),
    ctl("keygen", "--config", "x.json"),
    ctl("step-down", "9"),
    ctl("transfer"),
  ]);
  assert.equal(help.code, 0);
  for (const command of ["status [ID]", "leader", "timeout N", "step-down N", "shutdown N", "transfer N", "snapshot N", "members", "add ID", "remove ID", "--client ENDPOINT", "backup FILE", "restore FILE", "keygen", "--config-out FILE", "--watch"]) {
    assert.ok(help.stdout.includes(command), `--help lists ${command}`);
  }
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^zraft ctl: unknown command "frobnicate"; the commands are get, put, delete, list, cas, watch, status, leader, timeout, step-down, shutdown, transfer, snapshot, members, add, remove, backup, restore, keygen, completion\n/);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^zraft ctl: no command given\nusage: zraft/);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /--config goes with --config-out/);
  assert.equal(badId.code, 2);
  assert.match(badId.stderr, /^zraft ctl: step-down 9: the config has no such server \(ids: 1, 2, 3, 4, 5\)\nusage: zraft step-down N/);
  assert.equal(missingId.code, 2);
  assert.match(missingId.stderr, /^zraft ctl: transfer takes 1 operand \(N\), got 0/);
});

test("add and remove refuse bad usage (exit 2) before anything is sent", async () => {
  const [noClient, badClient, badId, zero, stray] = await Promise.all([
    ctl("add", "6"),
    ctl("add", "6", "--client", "http://127.0.0.1:5005"),
    ctl("add", "six", "--client", "tcp://127.0.0.1:5005"),
    ctl("remove", "0"),
    ctl("remove", "3", "--client", "tcp://127.0.0.1:5005"),
  ]);
  for (const result of [noClient, badClient, badId, zero, stray]) assert.equal(result.code, 2, result.stderr);
  assert.match(noClient.stderr, /^zraft ctl: add needs --client ENDPOINT: where the new server takes clients/);
  assert.match(badClient.stderr, /^zraft ctl: --client must be a ZeroMQ endpoint such as "tcp:\/\/127\.0\.0\.1:5000"/);
  assert.match(badId.stderr, /^zraft ctl: add six: a server id is a positive integer\nusage: zraft add ID/);
  assert.match(zero.stderr, /^zraft ctl: remove 0: a server id is a positive integer/);
  assert.match(stray.stderr, /^zraft ctl: option --client does not go with remove/);
});

test("backup and restore refuse bad usage (exit 2), an existing backup file and a damaged one (exit 1), before touching anything", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-ctl-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, "cluster.json");
  writeFileSync(config, JSON.stringify({ dataDir: join(dir, "data") }));
  const existing = join(dir, "existing.zbk");
  writeFileSync(existing, "zraft-backup\0");
  const [noFile, badServer, stray, missing, exists, damaged] = await Promise.all([
    ctl("backup"),
    ctl("backup", "x.zbk", "--server", "9"),
    ctl("restore", "x.zbk", "--server", "1"),
    ctl("restore", join(dir, "missing.zbk"), "--config", config),
    ctl("backup", existing, "--config", config),
    ctl("restore", existing, "--config", config),
  ]);
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /^zraft ctl: backup takes 1 operand \(FILE\), got 0\nusage: zraft backup FILE/);
  assert.equal(badServer.code, 2);
  assert.match(badServer.stderr, /^zraft ctl: --server 9: the config has no such server/);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /^zraft ctl: option --server does not go with restore\nusage: zraft restore FILE/);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing\.zbk: cannot be read \(ENOENT\)/);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /^zraft ctl: backup failed: cannot write .*existing\.zbk: it exists already, and is not overwritten/);
  assert.equal(damaged.code, 1);
  assert.equal(damaged.stderr, `zraft ctl: ${existing} cannot be restored: it is cut short: it ends within its format version\n`);
  assert.deepEqual(readdirSync(dir).sort(), ["cluster.json", "existing.zbk"], "no data directory, no temporary file");
});
