/** The sizes the client protocol allows (docs/protocol.md §4, §6). */

/** The longest key, in bytes of UTF-8. */
export const keyBytesMax = 1024;
/** The largest value or CAS expectation, in bytes of its MessagePack encoding (exactly 1 MiB is allowed). */
export const valueBytesMax = 1_048_576;
/** The longest client session id, in bytes of UTF-8. */
export const clientIdBytesMax = 128;
