/** The line a server logs when the configuration in force changes (src/server/describe-membership.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeMembership } from "../../src/server/describe-membership.ts";

test("voters and learners in id order, and where this server stands when it is no voter", () => {
  assert.equal(describeMembership({ voters: [4, 1, 3, 2], learners: [5], context: "" }, 1), "configuration: voters 1,2,3,4; learners 5");
  assert.equal(describeMembership({ voters: [1, 2, 3], learners: [], context: "" }, 2), "configuration: voters 1,2,3");
  assert.equal(describeMembership({ voters: [1, 2, 3], learners: [6], context: "" }, 6), "configuration: voters 1,2,3; learners 6; this server is a learner until it has caught up");
  assert.equal(describeMembership({ voters: [2, 3], learners: [], context: "" }, 1), "configuration: voters 2,3; this server is not a member");
  assert.match(describeMembership({ voters: [], learners: [], context: "" }, 6), /^configuration: none yet; waiting for the leader to add this server/);
});
