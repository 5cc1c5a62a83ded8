import assert from "node:assert/strict";
import { RaftNode, SeededRandom, emptyHardState, raftConfigDefaults, type Entry, type HardState, type Message, type RaftConfig } from "../../src/raft/index.ts";
import { RecordingLogger } from "../logging/recording-logger.ts";

/**
 * Server 1 of 3 with every election guard on (dissertation §9.6 PreVote,
 * §6.2 CheckQuorum, §4.2.3 stickiness, the timer from the first tick), for
 * the tests of the election rules.
 */
export const guarded: RaftConfig = {
  ...raftConfigDefaults,
  id: 1,
  peers: [1, 2, 3],
  preVote: true,
  checkQuorum: true,
  electionTimerFromFirstTick: true,
};
export const { electionTimeoutMsMin: minMs, electionTimeoutMsMax: maxMs } = guarded;

export interface TestNode {
  readonly node: RaftNode;
  readonly logger: RecordingLogger;
}

export function guardedNode(options: { hardState?: HardState; entries?: Entry[]; config?: Partial<RaftConfig>; nowMs?: number } = {}): TestNode {
  const logger = new RecordingLogger();
  const node = new RaftNode({
    config: { ...guarded, ...options.config },
    hardState: options.hardState ?? emptyHardState,
    entries: options.entries ?? [],
    nowMs: options.nowMs ?? 0,
    random: new SeededRandom(5),
    logger,
  });
  return { node, logger };
}

/** Handles every Ready as a runtime would; returns the messages sent. */
export function drain(node: RaftNode): Message[] {
  const sent: Message[] = [];
  while (node.hasReady()) {
    const ready = node.ready();
    sent.push(...ready.messages);
    node.advance(ready);
  }
  return sent;
}

/** Node 2's heartbeat to node 1 as leader of `term`, matching an empty log. */
export function heartbeatFrom2(term: number): Message {
  return { type: "AppendEntries", term, from: 2, to: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 };
}

/** Makes node 1 leader of term 1 (a forced campaign, node 2's vote) with its no-op acknowledged by node 2; returns the time. */
export function leaderOfTerm1(node: RaftNode, nowMs = 1): number {
  node.tick(nowMs);
  assert.ok(node.campaign());
  drain(node);
  node.step({ type: "RequestVoteResponse", term: 1, from: 2, to: 1, voteGranted: true });
  drain(node);
  assert.equal(node.status().role, "leader");
  node.step({ type: "AppendEntriesResponse", term: 1, from: 2, to: 1, success: true, matchIndex: 1, rejectedIndex: 0, conflictTerm: 0, conflictIndex: 0, readRound: 0 });
  drain(node);
  assert.equal(node.status().commitIndex, 1);
  return nowMs;
}

export const ofType = <T extends Message["type"]>(messages: readonly Message[], type: T): Extract<Message, { type: T }>[] =>
  messages.filter((message): message is Extract<Message, { type: T }> => message.type === type);
