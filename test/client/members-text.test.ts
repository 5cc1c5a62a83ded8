/**
 * How the controller shows a configuration (client/ctl-status.ts,
 * client/ctl-members.ts): a status line ends with the configuration the
 * server runs, and `members` is a table with who leads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { StatusReply } from "../../src/client/zraft-client.ts";
import { membersTable } from "../../client/ctl-members.ts";
import { configurationText, statusLine } from "../../client/ctl-status.ts";

const members = [
  { id: 6, client: "tcp://127.0.0.1:5005", voter: false },
  { id: 1, client: "tcp://127.0.0.1:5000", voter: true },
  { id: 2, client: null, voter: true },
];

test("a configuration in a few words; a status line ends with it", () => {
  assert.equal(configurationText(members), "voters 1,2; learners 6");
  assert.equal(configurationText(members.filter((member) => member.voter)), "voters 1,2");
  assert.equal(configurationText([]), "no configuration yet");
  const status: StatusReply = {
    ok: true, term: 3, leaderId: 1, id: 2, pid: 77, role: "follower", commitIndex: 9, lastApplied: 9, lastLogIndex: 10,
    logStartIndex: 0, snapshotIndex: 0, votedFor: 1, uptimeMs: 5, members,
  };
  assert.equal(statusLine(status), "server 2 (pid 77): follower, term 3, leader server 1, commit 9, applied 9, last log 10, snapshot none; voters 1,2; learners 6");
});

test("members: one row a member, in the order the leader gave, and who leads", () => {
  assert.equal(
    membersTable(members, { id: 1, term: 3 }),
    [
      "SERVER  CLIENT                MEMBER",
      "6       tcp://127.0.0.1:5005  learner",
      "1       tcp://127.0.0.1:5000  voter",
      "2       -                     voter",
      "server 1 leads term 3: 2 voters, 1 learner",
    ].join("\n"),
  );
});
