import { ConfigError } from "./cluster-config.ts";
import { curvePublicKeyOf, decodeCurveKey, type CurveKeyPair } from "./curve-keys.ts";
import { readJsonFile } from "./json-file.ts";

/**
 * A key file that cannot be used: names the file and the field. A kind of
 * ConfigError, so every program reports it the same way (one line, exit 2).
 */
export class KeyFileError extends ConfigError {
  constructor(file: string, field: string, problem: string) {
    super(file, field, problem);
    this.message = `key file ${file}: ${field}: ${problem}`;
  }
}

/**
 * Reads a client's key pair (docs/protocol.md §10): a JSON file
 * `{ "publicKey": "...", "secretKey": "..." }` as `npm run ctl -- keygen`
 * prints it. Checked here, where it enters: both keys Z85 of 32 bytes, and
 * the secret the one that belongs to the public key.
 * @throws KeyFileError naming the file and the field
 */
export function loadKeyPairFile(path: string): CurveKeyPair {
  const document = readJsonFile(path, (problem) => {
    throw new KeyFileError(path, "(file)", problem);
  });
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new KeyFileError(path, "(top level)", 'must be a JSON object { "publicKey": "...", "secretKey": "..." }');
  }
  const fields = document as Record<string, unknown>;
  const key = (field: "publicKey" | "secretKey"): string => {
    const bytes = decodeCurveKey(fields[field]);
    if (typeof bytes === "string") throw new KeyFileError(path, field, fields[field] === undefined ? "is missing" : bytes);
    return fields[field] as string;
  };
  const publicKey = key("publicKey");
  const secretKey = key("secretKey");
  if (curvePublicKeyOf(secretKey) !== publicKey) throw new KeyFileError(path, "secretKey", "does not belong to publicKey");
  return { publicKey, secretKey };
}
