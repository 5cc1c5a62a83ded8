/** The sizes the client protocol allows (docs/protocol.md §4, §6). */

/** The longest key, in bytes of UTF-8. */
export const keyBytesMax = 1024;
/** The largest value or CAS expectation, in bytes of its MessagePack encoding (exactly 1 MiB is allowed). */
export const valueBytesMax = 1_048_576;
/** The longest client session id, in bytes of UTF-8. */
export const clientIdBytesMax = 128;

/**
 * A `list` reply holds at most this many pairs (docs/protocol.md §4)...
 * a client reads the rest in further pages, each starting `after` the last
 * key it got.
 */
export const listPageEntriesMax = 1000;
/** ... and, past its first pair, at most about this many bytes of keys and values. */
export const listPageBytesMax = 4 * 1_048_576;
