import type { Message } from "./types.ts";

/**
 * One readable line per message, for traces and failing-seed reports:
 * `2→3 AppendEntries t4 prev=(10,3) n=5 commit=9 round=2`.
 */
export function describeMessage(message: Message): string {
  const head = `${message.from}→${message.to} ${message.type} t${message.term}`;
  switch (message.type) {
    case "RequestVote":
      return `${head} last=(${message.lastLogIndex},${message.lastLogTerm})${message.forced === true ? " forced" : ""}`;
    case "PreVote":
      return `${head} last=(${message.lastLogIndex},${message.lastLogTerm})`;
    case "RequestVoteResponse":
    case "PreVoteResponse":
      return `${head} ${message.voteGranted ? "granted" : "refused"}`;
    case "TimeoutNow":
      return head;
    case "AppendEntries":
      return `${head} prev=(${message.prevLogIndex},${message.prevLogTerm}) n=${message.entries.length} commit=${message.leaderCommit} round=${message.readRound}`;
    case "AppendEntriesResponse":
      return message.success
        ? `${head} ok match=${message.matchIndex} round=${message.readRound}`
        : `${head} reject at=${message.rejectedIndex} hint=(${message.conflictIndex},${message.conflictTerm}) round=${message.readRound}`;
    case "InstallSnapshot":
      return `${head} snap=(${message.snapshot.index},${message.snapshot.term}) chunk=${message.chunk} bytes=${message.data.length}${message.last ? " last" : ""}`;
    case "InstallSnapshotResponse":
      return `${head} snap=(${message.snapshot.index},${message.snapshot.term}) ${message.done ? "done" : `next=${message.nextChunk}`}`;
  }
}
