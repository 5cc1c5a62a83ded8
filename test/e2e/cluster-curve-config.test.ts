/**
 * Proves that a CURVE setting that cannot be honoured stops every program at
 * start-up with one line naming the file and the field, and exit code 2
 * (docs/protocol.md §1, §10), rather than running in plaintext: a malformed
 * key or a secret that does not belong to its public key in the config (the
 * server, the forwarder, `ctl keygen --config-out`), a server given a
 * client's copy of the config (no secret key), a client of a CURVE
 * cluster given no key pair, a malformed client key file, and a client key
 * given for a cluster without CURVE.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curveKeyPair } from "zeromq";
import { runCommand, type CommandResult } from "./harness.ts";

/** The one line on stderr of a command that stopped with exit code 2. */
function refusal(result: CommandResult): string {
  assert.equal(result.code, 2, `exit code 2: ${JSON.stringify(result)}`);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  return lines[0] as string;
}

test("a curve setting that cannot be honoured stops each program with one line and exit code 2", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-curve-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, value: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const cluster = curveKeyPair();
  const other = curveKeyPair();
  const malformed = write("malformed.json", { curve: { publicKey: "not-a-key", secretKey: cluster.secretKey } });
  const mismatched = write("mismatched.json", { curve: { publicKey: cluster.publicKey, secretKey: other.secretKey } });
  const secure = write("secure.json", { curve: cluster, dataDir: join(dir, "data") });
  const clientCopy = write("client-copy.json", { curve: { publicKey: cluster.publicKey }, dataDir: join(dir, "data") });
  const plain = write("plain.json", { dataDir: join(dir, "data") });
  const badKey = write("bad-key.json", { publicKey: other.publicKey, secretKey: "short" });
  const goodKey = write("good-key.json", other);
  const noKeyEnv = { ZRAFT_CLIENT_KEY: "", ZRAFT_CONFIG: "" };

  const [server, serverWithoutSecret, forwarder, ctl, noKey, badKeyFile, keyWithoutCurve] = await Promise.all([
    runCommand(["src/server/main.ts", "--id", "1", "--config", malformed]),
    runCommand(["src/server/main.ts", "--id", "1", "--config", clientCopy]),
    runCommand(["forwarder/main.ts", "--config", mismatched]),
    runCommand(["client/ctl.ts", "keygen", "--config", malformed, "--config-out", join(dir, "out.json")]),
    runCommand(["client/main.ts", "--config", secure, "get", "k"], { env: noKeyEnv }),
    runCommand(["client/main.ts", "--config", secure, "--key", badKey, "get", "k"], { env: noKeyEnv }),
    runCommand(["client/main.ts", "--config", plain, "get", "k"], { env: { ZRAFT_CLIENT_KEY: goodKey } }),
  ]);

  assert.equal(refusal(server), `zraft server: config ${malformed}: curve.publicKey: must be 40 Z85 characters, got 9`);
  assert.match(refusal(serverWithoutSecret), /^zraft server: config .*client-copy\.json: curve\.secretKey: is missing: servers and forwarders need the cluster's secret key/);
  assert.match(refusal(forwarder), /^forwarder: config .*mismatched\.json: curve\.secretKey: does not belong to curve\.publicKey/);
  assert.match(refusal(ctl), /^zraft ctl: config .*malformed\.json: curve\.publicKey: must be 40 Z85 characters/);
  assert.match(refusal(noKey), /^zraft: config .*secure\.json: curve: this cluster uses CURVE: .*--key FILE or ZRAFT_CLIENT_KEY=FILE .*npm run ctl -- keygen > client-key\.json/);
  assert.equal(refusal(badKeyFile), `zraft: key file ${badKey}: secretKey: must be 40 Z85 characters, got 5`);
  assert.match(refusal(keyWithoutCurve), /^zraft: config .*plain\.json: curve: is absent, so this cluster is not encrypted, yet ZRAFT_CLIENT_KEY=.* gives a client key/);
  for (const result of [server, serverWithoutSecret, forwarder, ctl, noKey, badKeyFile, keyWithoutCurve]) t.diagnostic(result.stderr.trimEnd());
});
