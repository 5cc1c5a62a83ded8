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

/** A `watch` reply holds at most as many events, and bytes of keys and values, as a `list` page (docs/protocol.md §6). */
export const watchPageEventsMax = listPageEntriesMax;
export const watchPageBytesMax = listPageBytesMax;

/**
 * How long a server holds a `watch` that has nothing to report yet, unless
 * the request says otherwise: long enough that an idle watcher costs a
 * request every 10 s, short enough that a client notices a server that hangs
 * (one that stops without dropping the connection) within that.
 */
export const watchWaitMsDefault = 10_000;
/** The longest hold a request may ask for: a minute keeps every held request's end in sight. */
export const watchWaitMsMax = 60_000;
