import { createPrivateKey, createPublicKey } from "node:crypto";

/**
 * CURVE keys as the config and key files hold them (docs/protocol.md §10):
 * 32-byte Curve25519 keys written as 40 characters of Z85, ZeroMQ's text
 * encoding (ZeroMQ RFC 32: each 4 bytes, big-endian, become 5 base-85 digits).
 */

/** Bytes in a CURVE key. */
export const curveKeyBytes = 32;
/** Characters in a CURVE key written in Z85. */
export const curveKeyTextLength = 40;

/** A CURVE key pair in Z85 text, as a key file or a config's `curve` section holds it. */
export interface CurveKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const z85Digits: ReadonlyMap<string, number> = new Map([...z85Alphabet].map((char, value) => [char, value]));

/** Z85 text of `bytes`, whose length must be a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`Z85 encodes whole groups of 4 bytes, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let text = "";
  for (let offset = 0; offset < bytes.length; offset += 4) {
    let value = view.getUint32(offset);
    const group: string[] = [];
    for (let i = 0; i < 5; i++) {
      group.push(z85Alphabet[value % 85] as string);
      value = Math.floor(value / 85);
    }
    text += group.reverse().join("");
  }
  return text;
}

/**
 * The bytes `text` encodes, or a sentence saying why it is not Z85 (a
 * length that is not a multiple of 5, a character outside the alphabet, a
 * group worth more than 4 bytes can hold).
 */
export function z85Decode(text: string): Uint8Array | string {
  if (text.length % 5 !== 0) return `Z85 text comes in groups of 5 characters, got ${text.length}`;
  const bytes = new Uint8Array((text.length / 5) * 4);
  const view = new DataView(bytes.buffer);
  for (let group = 0; group < text.length / 5; group++) {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const char = text[group * 5 + i] as string;
      const digit = z85Digits.get(char);
      if (digit === undefined) return `${JSON.stringify(char)} is not a Z85 character`;
      value = value * 85 + digit;
    }
    if (value > 0xffff_ffff) return `characters ${group * 5 + 1} to ${group * 5 + 5} are not valid Z85 (too large)`;
    view.setUint32(group * 4, value);
  }
  return bytes;
}

/** The 32 bytes of a Z85 CURVE key, or a sentence saying what is wrong with it. */
export function decodeCurveKey(value: unknown): Uint8Array | string {
  if (typeof value !== "string") return `must be a string of ${curveKeyTextLength} Z85 characters, got ${value === null ? "null" : typeof value}`;
  if (value.length !== curveKeyTextLength) return `must be ${curveKeyTextLength} Z85 characters, got ${value.length}`;
  const bytes = z85Decode(value);
  return typeof bytes === "string" ? `is not a Z85 key: ${bytes}` : bytes;
}

/**
 * DER of a PKCS#8 X25519 private key up to its 32 key bytes (RFC 8410): the
 * form in which node:crypto takes a raw Curve25519 secret.
 */
const x25519Pkcs8Prefix = Buffer.from("302e020100300506032b656e04220420", "hex");

/**
 * The public key that belongs to a CURVE secret key, both in Z85. CURVE's
 * keys are Curve25519 (X25519) keys, so node:crypto derives the same public
 * key as libzmq would; zeromq's bindings offer no function for it.
 */
export function curvePublicKeyOf(secretKey: string): string {
  const secret = decodeCurveKey(secretKey);
  if (typeof secret === "string") throw new RangeError(`secret key ${secret}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([x25519Pkcs8Prefix, secret]), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new Error("node:crypto gave no X25519 public key");
  return z85Encode(Buffer.from(jwk.x, "base64url"));
}
