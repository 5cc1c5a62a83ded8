/**
 * Proves the checks on CURVE keys where they enter (docs/protocol.md §10):
 * Z85 as ZeroMQ RFC 32 defines it, the public key derived from a secret key
 * exactly as libzmq's own key generator pairs them, and a config `curve`
 * section or a client key file refused with the field named whenever a key
 * is malformed, a secret does not belong to its public key, or a field is
 * misspelt; and a server or forwarder refused a config without the
 * cluster's secret key, which a client's copy leaves out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curveKeyPair } from "zeromq";
import { ConfigError, clusterKeyPair, validateClusterConfig, type CurveConfig } from "../../src/config/cluster-config.ts";
import { curvePublicKeyOf, decodeCurveKey, z85Decode, z85Encode } from "../../src/config/curve-keys.ts";
import { KeyFileError, loadKeyPairFile } from "../../src/config/key-pair-file.ts";

test("Z85 matches the test vector of its specification and round-trips any bytes", () => {
  const vector = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
  assert.equal(z85Encode(vector), "HelloWorld");
  assert.deepEqual(z85Decode("HelloWorld"), vector);
  for (let i = 0; i < 100; i++) {
    const bytes = randomBytes(32);
    assert.deepEqual(Buffer.from(z85Decode(z85Encode(bytes)) as Uint8Array), bytes);
  }
});

test("Z85 text that is not a key is refused with a reason", () => {
  assert.match(z85Decode("abcd") as string, /groups of 5/);
  assert.match(z85Decode("abc\"e") as string, /not a Z85 character/);
  assert.match(z85Decode("#####") as string, /too large/);
  assert.match(decodeCurveKey("short") as string, /40 Z85 characters, got 5/);
  assert.match(decodeCurveKey(42) as string, /must be a string/);
  assert.equal((decodeCurveKey(curveKeyPair().publicKey) as Uint8Array).length, 32);
});

test("the public key derived from a secret key is the one libzmq generated with it", () => {
  for (let i = 0; i < 50; i++) {
    const pair = curveKeyPair();
    assert.equal(curvePublicKeyOf(pair.secretKey), pair.publicKey);
  }
});

/** The ConfigError `validateClusterConfig` throws for a config with this `curve` section. */
function curveError(curve: unknown): ConfigError {
  try {
    validateClusterConfig({ curve }, "c.json");
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("the config was accepted");
}

test("a curve section is accepted only with well-formed keys and a secret that matches its public key", () => {
  const cluster = curveKeyPair();
  const client = curveKeyPair();
  assert.deepEqual(validateClusterConfig({ curve: { ...cluster, clients: [client.publicKey] } }, "c.json").curve, {
    ...cluster,
    clients: [client.publicKey],
  });
  assert.deepEqual(validateClusterConfig({ curve: cluster }, "c.json").curve, cluster);
  // A client's copy of the config: the cluster's public key without its secret.
  const clientCopy = validateClusterConfig({ curve: { publicKey: cluster.publicKey } }, "c.json");
  assert.deepEqual(clientCopy.curve, { publicKey: cluster.publicKey });
  assert.throws(() => clusterKeyPair(clientCopy.curve as CurveConfig, "c.json"), /^ConfigError: config c\.json: curve\.secretKey: is missing: servers and forwarders need/);
  assert.deepEqual(clusterKeyPair(validateClusterConfig({ curve: cluster }, "c.json").curve as CurveConfig, "c.json"), cluster);

  assert.equal(curveError({ ...cluster, publicKey: "tooShort" }).message, "config c.json: curve.publicKey: must be 40 Z85 characters, got 8");
  assert.match(curveError({ ...cluster, secretKey: `${cluster.secretKey.slice(0, 39)}"` }).message, /curve\.secretKey: is not a Z85 key/);
  assert.match(curveError({ publicKey: cluster.publicKey, secretKey: client.secretKey }).message, /curve\.secretKey: does not belong to curve\.publicKey/);
  assert.match(curveError({ ...cluster, client: [client.publicKey] }).message, /unknown field "curve\.client" \(did you mean "clients"\?\)/);
  assert.match(curveError({ ...cluster, clients: [] }).message, /curve\.clients: must be a non-empty array/);
  assert.match(curveError({ ...cluster, clients: [client.publicKey, "x"] }).message, /curve\.clients\[1\]: must be 40 Z85 characters/);
  assert.match(curveError({ ...cluster, clients: [client.publicKey, client.publicKey] }).message, /curve\.clients\[1\]: duplicate key/);
  assert.match(curveError("on").message, /^config c\.json: curve: must be an object/);
});

test("a client key file is read, or refused with one line naming the file and the field", () => {
  const dir = mkdtempSync(join(tmpdir(), "zraft-keys-"));
  try {
    const file = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const pair = curveKeyPair();
    assert.deepEqual(loadKeyPairFile(file("good.json", JSON.stringify(pair))), pair);
    const refusal = (path: string): string => {
      try {
        loadKeyPairFile(path);
      } catch (error) {
        assert.ok(error instanceof KeyFileError && error instanceof ConfigError && error.exitCode === 2, String(error));
        assert.doesNotMatch(error.message, /\n/);
        return error.message;
      }
      return assert.fail(`${path} was accepted`);
    };
    assert.match(refusal(join(dir, "absent.json")), /^key file .*absent\.json: \(file\): cannot be read: ENOENT$/);
    assert.match(refusal(file("text.json", "not json")), /text\.json: \(file\): is not valid JSON/);
    assert.match(refusal(file("array.json", "[]")), /array\.json: \(top level\): must be a JSON object/);
    assert.match(refusal(file("no-secret.json", JSON.stringify({ publicKey: pair.publicKey }))), /no-secret\.json: secretKey: is missing$/);
    assert.match(refusal(file("short.json", JSON.stringify({ ...pair, publicKey: "abc" }))), /short\.json: publicKey: must be 40 Z85 characters, got 3$/);
    const other = curveKeyPair();
    assert.match(refusal(file("mixed.json", JSON.stringify({ ...pair, secretKey: other.secretKey }))), /mixed\.json: secretKey: does not belong to publicKey$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
