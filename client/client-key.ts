/**
 * The CURVE keys of `npm run client` (docs/protocol.md §10): the cluster's
 * public key comes from the config's `curve` section, the client's own key
 * pair from `--key FILE` or ZRAFT_CLIENT_KEY=FILE. A CURVE cluster without
 * a client key, or a client key for a plaintext cluster, stops the client
 * at once with one line (exit 2): it would otherwise time out against every
 * server, or talk plaintext while the user believes it is encrypted.
 */
import type { ParsedArgs } from "../src/cli/args.ts";
import { ConfigError, builtInConfigName, type ClusterConfig } from "../src/config/cluster-config.ts";
import { loadKeyPairFile } from "../src/config/key-pair-file.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";

/** The environment variable that names the client's key file when `--key` is absent. */
export const clientKeyVariable = "ZRAFT_CLIENT_KEY";

/** How to make a key file, for messages. */
export const keygenHint = "npm run ctl -- keygen > client-key.json";

/**
 * The client's CURVE keys, or undefined for a cluster without `curve`.
 * @throws ConfigError (a KeyFileError for a bad key file): one line, exit code 2
 */
export function clientCurveKeys(args: ParsedArgs, config: ClusterConfig, env: NodeJS.ProcessEnv = process.env): CurveClientKeys | undefined {
  const configName = args.values.get("config") ?? (env.ZRAFT_CONFIG || builtInConfigName);
  const fromFlag = args.values.get("key");
  const fromEnv = env[clientKeyVariable] === "" ? undefined : env[clientKeyVariable];
  const keyFile = fromFlag ?? fromEnv;
  const source = fromFlag !== undefined ? `--key ${fromFlag}` : `${clientKeyVariable}=${fromEnv}`;
  if (config.curve === undefined) {
    if (keyFile === undefined) return undefined;
    throw new ConfigError(configName, "curve", `is absent, so this cluster is not encrypted, yet ${source} gives a client key: use the CURVE cluster's config, or leave the key out`);
  }
  if (keyFile === undefined) {
    throw new ConfigError(
      configName,
      "curve",
      `this cluster uses CURVE: give the client a key pair with --key FILE or ${clientKeyVariable}=FILE (make one with: ${keygenHint})`,
    );
  }
  const pair = loadKeyPairFile(keyFile);
  return { serverPublicKey: config.curve.publicKey, publicKey: pair.publicKey, secretKey: pair.secretKey };
}
