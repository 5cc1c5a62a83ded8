/**
 * Proves that ZraftError carries a stable name, a protocol code and its cause,
 * and that isErrorCode accepts exactly the codes of docs/protocol.md §5.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CompactedError, ZraftError, errorCodes, isErrorCode } from "../../src/protocol/errors.ts";

describe("ZraftError", () => {
  it("keeps its name, code, message and cause", () => {
    const cause = new Error("socket closed");
    const error = new ZraftError("TIMEOUT", "the write was not confirmed in time", { cause });
    assert.ok(error instanceof Error);
    assert.equal(error.name, "ZraftError");
    assert.equal(error.code, "TIMEOUT");
    assert.equal(error.message, "the write was not confirmed in time");
    assert.equal(error.cause, cause);
  });

  it("COMPACTED carries the oldest index the server still serves a watch from", () => {
    const error = new CompactedError("the changes before index 40 are no longer kept", 40);
    assert.ok(error instanceof ZraftError);
    assert.equal(error.code, "COMPACTED");
    assert.equal(error.oldest, 40);
  });

  it("recognizes exactly the protocol's error codes", () => {
    assert.deepEqual([...errorCodes], ["NOT_LEADER", "NO_LEADER", "TIMEOUT", "BAD_REQUEST", "SHUTTING_DOWN", "SESSION_EXPIRED", "COMPACTED"]);
    for (const code of errorCodes) assert.equal(isErrorCode(code), true);
    for (const value of ["not_leader", "", "OK", 3, null, undefined]) assert.equal(isErrorCode(value), false);
  });
});
