/**
 * Who a Raft message on the bus is from and to, as the forwarder's fault
 * rules need it (docs/protocol.md §11). A message's first two frames are a
 * topic and a MessagePack map (the peer codec's format,
 * src/protocol/peer-codec.ts). The topic is `raft/<to>/` for a message to
 * one server, or `raft/from/<from>/` for a multicast, whose body's `to` is
 * an array of its receivers; the body's `from` field names the sender.
 *
 * The forwarder does not decode messages: it stays a pass-through. Only
 * while a rule is in force is the body looked at, and then only up to the
 * field needed, `from` or `to`, which the servers write third and fourth,
 * after `type` and `term`; an AppendEntries carrying megabytes of entries
 * costs a few byte reads.
 *
 * Nothing here trusts the bytes: a malformed topic or body gives null
 * ("unknown"), never an exception.
 */

const receiverTopicPattern = /^raft\/([1-9]\d{0,8})\/$/;
const multicastTopicPattern = /^raft\/from\/([1-9]\d{0,8})\/$/;

/** The longest topic either pattern matches: a longer frame is not worth decoding to find that out. */
const topicBytesMax = "raft/from/".length + 9 + 1;

/**
 * More receivers than any cluster has. A body naming more is not one a
 * server wrote, and must not make the forwarder send that many copies.
 */
const receiversMax = 64;

/**
 * The receiver named by the topic frame `raft/<to>/`, or null when the
 * frame is not such a topic; a multicast's `raft/from/<from>/` names no
 * receiver.
 */
export function receiverOf(topic: Uint8Array | undefined): number | null {
  return idInTopic(topic, receiverTopicPattern);
}

/** The sender named by a multicast's topic frame `raft/from/<from>/`, or null when the frame is not such a topic. */
export function multicastSenderOf(topic: Uint8Array | undefined): number | null {
  return idInTopic(topic, multicastTopicPattern);
}

/** The topic frame `raft/<to>/` of a message to `to`: where a copy of a multicast for `to` goes. */
export function receiverTopic(to: number): Buffer {
  return Buffer.from(`raft/${to}/`, "latin1");
}

function idInTopic(topic: Uint8Array | undefined, pattern: RegExp): number | null {
  if (topic === undefined || topic.length > topicBytesMax) return null;
  const match = pattern.exec(Buffer.from(topic.buffer, topic.byteOffset, topic.length).toString("latin1"));
  return match === null ? null : Number(match[1]);
}

/**
 * The `from` field of a peer message body: a positive integer in a
 * top-level MessagePack map. Null when the body is not a map, has no such
 * field, or the field is not a positive integer.
 */
export function senderOf(body: Uint8Array | undefined): number | null {
  return SkimReader.atField(body, "from")?.positiveInteger() ?? null;
}

/**
 * The `to` field of a multicast body: an array of 1 to 64 distinct positive
 * integers of up to 32 bits. Null when the body is not a map, has no such
 * field, or the field is anything else. A receiver named twice is refused
 * rather than deduplicated: no server writes such a list, and taking it as
 * written would have the forwarder deliver one message twice to a server.
 * Whether the list is one its sender may send (two or more receivers, not
 * the sender) is for the receivers to judge, as they do on any path.
 */
export function receiversOf(body: Uint8Array | undefined): readonly number[] | null {
  return SkimReader.atField(body, "to")?.distinctPositiveIntegers(receiversMax) ?? null;
}

/** Deeper than this, a body is not one the servers wrote; stop rather than recurse. */
const nestingMax = 64;

/** Reads just enough MessagePack to walk a map's keys and skip its values; every read is bounds-checked. */
class SkimReader {
  #pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /**
   * A reader at the value of the top-level map field `key` of `body`, or
   * null when the body is not a map or has no such field.
   */
  static atField(body: Uint8Array | undefined, key: string): SkimReader | null {
    if (body === undefined) return null;
    const reader = new SkimReader(body);
    const entries = reader.mapHeader();
    if (entries === null) return null;
    for (let i = 0; i < entries; i++) {
      const name = reader.shortString();
      if (name === undefined) return null; // not a key we can read: give up rather than guess
      if (name === key) return reader;
      if (!reader.skipValue(0)) return null;
    }
    return null;
  }

  /** The entry count of a map at the current position, or null when none starts there. */
  mapHeader(): number | null {
    const tag = this.#byte();
    if (tag === undefined) return null;
    if (tag >= 0x80 && tag <= 0x8f) return tag & 0x0f;
    if (tag === 0xde) return this.#unsigned(2) ?? null;
    if (tag === 0xdf) return this.#unsigned(4) ?? null;
    return null;
  }

  /** A string of at most 255 bytes (every field name is short), or undefined. */
  shortString(): string | undefined {
    const tag = this.#byte();
    if (tag === undefined) return undefined;
    let length: number | undefined;
    if (tag >= 0xa0 && tag <= 0xbf) length = tag & 0x1f;
    else if (tag === 0xd9) length = this.#unsigned(1);
    if (length === undefined || this.#pos + length > this.bytes.length) return undefined;
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.#pos, length).toString("latin1");
    this.#pos += length;
    return text;
  }

  /** A positive integer of up to 32 bits, or null. */
  positiveInteger(): number | null {
    const tag = this.#byte();
    let value: number | undefined;
    if (tag === undefined) return null;
    if (tag <= 0x7f) value = tag;
    else if (tag === 0xcc) value = this.#unsigned(1);
    else if (tag === 0xcd) value = this.#unsigned(2);
    else if (tag === 0xce) value = this.#unsigned(4);
    return value !== undefined && value > 0 ? value : null;
  }

  /** An array of 1 to `max` distinct positive integers of up to 32 bits, or null. */
  distinctPositiveIntegers(max: number): number[] | null {
    const count = this.#arrayHeader();
    if (count === null || count === 0 || count > max) return null;
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const value = this.positiveInteger();
      if (value === null || values.includes(value)) return null;
      values.push(value);
    }
    return values;
  }

  /** Moves past one value of any type; false when the bytes end early or are not MessagePack. */
  skipValue(depth: number): boolean {
    if (depth > nestingMax) return false;
    const tag = this.#byte();
    if (tag === undefined || tag === 0xc1) return false;
    if (tag <= 0x7f || tag >= 0xe0 || tag === 0xc0 || tag === 0xc2 || tag === 0xc3) return true;
    if (tag >= 0x80 && tag <= 0x8f) return this.#skipItems(2 * (tag & 0x0f), depth);
    if (tag >= 0x90 && tag <= 0x9f) return this.#skipItems(tag & 0x0f, depth);
    if (tag >= 0xa0 && tag <= 0xbf) return this.#skipBytes(tag & 0x1f);
    switch (tag) {
      case 0xc4: // bin 8, 16, 32
      case 0xd9: // str 8
        return this.#skipSized(1, 0);
      case 0xc5:
      case 0xda:
        return this.#skipSized(2, 0);
      case 0xc6:
      case 0xdb:
        return this.#skipSized(4, 0);
      case 0xc7: // ext 8, 16, 32: size, then a type byte, then the data
        return this.#skipSized(1, 1);
      case 0xc8:
        return this.#skipSized(2, 1);
      case 0xc9:
        return this.#skipSized(4, 1);
      case 0xcc:
      case 0xd0:
        return this.#skipBytes(1);
      case 0xcd:
      case 0xd1:
        return this.#skipBytes(2);
      case 0xca:
      case 0xce:
      case 0xd2:
        return this.#skipBytes(4);
      case 0xcb:
      case 0xcf:
      case 0xd3:
        return this.#skipBytes(8);
      case 0xd4: // fixext 1, 2, 4, 8, 16: a type byte, then the data
        return this.#skipBytes(2);
      case 0xd5:
        return this.#skipBytes(3);
      case 0xd6:
        return this.#skipBytes(5);
      case 0xd7:
        return this.#skipBytes(9);
      case 0xd8:
        return this.#skipBytes(17);
      case 0xdc: {
        const count = this.#unsigned(2);
        return count !== undefined && this.#skipItems(count, depth);
      }
      case 0xdd: {
        const count = this.#unsigned(4);
        return count !== undefined && this.#skipItems(count, depth);
      }
      case 0xde: {
        const count = this.#unsigned(2);
        return count !== undefined && this.#skipItems(2 * count, depth);
      }
      case 0xdf: {
        const count = this.#unsigned(4);
        return count !== undefined && this.#skipItems(2 * count, depth);
      }
      default:
        return false;
    }
  }

  /** Each item takes at least one byte, so a count beyond what is left fails at once instead of looping. */
  #skipItems(count: number, depth: number): boolean {
    if (count > this.bytes.length - this.#pos) return false;
    for (let i = 0; i < count; i++) if (!this.skipValue(depth + 1)) return false;
    return true;
  }

  /** The item count of an array at the current position, or null when none starts there. */
  #arrayHeader(): number | null {
    const tag = this.#byte();
    if (tag === undefined) return null;
    if (tag >= 0x90 && tag <= 0x9f) return tag & 0x0f;
    if (tag === 0xdc) return this.#unsigned(2) ?? null;
    if (tag === 0xdd) return this.#unsigned(4) ?? null;
    return null;
  }

  #skipSized(sizeBytes: number, extraBytes: number): boolean {
    const size = this.#unsigned(sizeBytes);
    return size !== undefined && this.#skipBytes(size + extraBytes);
  }

  #skipBytes(count: number): boolean {
    if (this.#pos + count > this.bytes.length) return false;
    this.#pos += count;
    return true;
  }

  #byte(): number | undefined {
    return this.#pos < this.bytes.length ? this.bytes[this.#pos++] : undefined;
  }

  /** A big-endian unsigned integer of `width` bytes (1, 2 or 4). */
  #unsigned(width: number): number | undefined {
    if (this.#pos + width > this.bytes.length) return undefined;
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 256 + (this.bytes[this.#pos + i] as number);
    this.#pos += width;
    return value;
  }
}
