/**
 * The membership commands of `zraft` (docs/protocol.md §1, §4; Raft
 * dissertation ch. 4), all on the leader:
 *
 *   members                        the configuration in force: each member's id, client endpoint, voter or learner
 *   add ID --client ENDPOINT       server ID joins as a learner; waits until the leader has promoted it
 *   remove ID                      server ID leaves the configuration (the leader too)
 *
 * A change is sent again only when the server did not take it on
 * (NOT_LEADER, NO_LEADER): a TIMEOUT's outcome is unknown. Exit codes: 0
 * done; 1 refused, no leader, no reply, or an added server still a learner
 * when the wait ends. Usage errors are thrown as UsageError for the
 * dispatcher (zraft.ts) to report with exit code 2.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { UsageError } from "../src/cli/args.ts";
import { sendAdmin, type AdminOutcome } from "../src/client/admin-request.ts";
import type { ClusterConfig, ServerConfig } from "../src/config/cluster-config.ts";
import { endpointRule, isEndpoint } from "../src/config/endpoint.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import type { MemberInfo } from "../src/protocol/reply-fields.ts";
import type { Invocation } from "./command-io.ts";
import { actionTimeoutMs, describeOutcome } from "./ctl-admin.ts";
import { leaderStatus, memberIds } from "./ctl-status.ts";
import { serverIdOf } from "./server-id.ts";

/** How long a change keeps looking for a leader that takes it (an election may be under way). */
const leaderSearchMs = 10_000;
/** How long `add` waits for the leader to promote its learner, and how often it looks. */
export const promotionWaitMs = 30_000;
const promotionPollMs = 250;

/** The members as a table for a person, and who leads. */
export function membersTable(members: readonly MemberInfo[], leader: { readonly id: number; readonly term: number }): string {
  const rows = members.map((member) => [String(member.id), member.client ?? "-", member.voter ? "voter" : "learner"]);
  const header = ["SERVER", "CLIENT", "MEMBER"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] as number)).join("  ").trimEnd();
  const voters = members.filter((member) => member.voter).length;
  const learners = members.length - voters;
  const counts = `${voters} voter${voters === 1 ? "" : "s"}${learners === 0 ? "" : `, ${learners} learner${learners === 1 ? "" : "s"}`}`;
  return [line(header), ...rows.map(line), `server ${leader.id} leads term ${leader.term}: ${counts}`].join("\n");
}

/**
 * Sends `command` to the leader, looking for it again while servers answer
 * that they are not it (or know none): those did not take the change on.
 */
async function changeOnLeader<Action extends "add" | "remove">(
  send: (server: ServerConfig, options: { readonly timeoutMs: number; readonly curve?: CurveClientKeys }) => Promise<AdminOutcome<Action>>,
  config: ClusterConfig,
  curve: CurveClientKeys | undefined,
): Promise<{ readonly leader: number; readonly outcome: AdminOutcome<Action> } | string> {
  const deadline = performance.now() + leaderSearchMs;
  for (;;) {
    const found = await leaderStatus(config, curve);
    if (typeof found !== "string") {
      const outcome = await send(found.server, { timeoutMs: actionTimeoutMs, ...(curve === undefined ? {} : { curve }) });
      const notTaken = outcome.kind === "refused" && (outcome.code === "NOT_LEADER" || outcome.code === "NO_LEADER");
      if (!notTaken || performance.now() > deadline) return { leader: found.server.id, outcome };
    } else if (performance.now() > deadline) {
      return found;
    }
    await sleep(200);
  }
}

/** `members [--json]`. */
async function members({ args, config, curve, io }: Invocation): Promise<number> {
  const found = await leaderStatus(config, curve);
  if (typeof found === "string") {
    if (args.flags.has("json")) io.stdout.write(`${JSON.stringify({ ok: false, message: found })}\n`);
    io.stderr.write(`${io.program}: ${found}\n`);
    return 1;
  }
  const { status } = found;
  const leader = { id: status.id, term: status.term };
  io.stdout.write(`${args.flags.has("json") ? JSON.stringify({ leader, members: status.members }) : membersTable(status.members, leader)}\n`);
  return 0;
}

/** `add ID --client ENDPOINT [--json]`: added as a learner, then promoted by the leader once it has caught up. */
async function add({ operands, args, config, curve, io }: Invocation): Promise<number> {
  const id = serverIdOf(operands[0] as string, "add");
  const client = args.values.get("client");
  if (client === undefined) throw new UsageError("add needs --client ENDPOINT: where the new server takes clients, as its config file says");
  if (!isEndpoint(client)) throw new UsageError(`--client must be ${endpointRule}, got ${JSON.stringify(client)}`);
  const json = args.flags.has("json");
  const sent = await changeOnLeader((server, options) => sendAdmin(server, { action: "add", target: id, client }, options), config, curve);
  if (typeof sent === "string" || sent.outcome.kind !== "done") return fail(typeof sent === "string" ? sent : describeOutcome(sent.outcome), json, io);
  const { index } = sent.outcome.reply;
  if (!json) io.stdout.write(`server ${id} added as a learner (entry ${index}); waiting for it to catch up\n`);
  const voter = await waitForPromotion(id, config, curve);
  if (json) io.stdout.write(`${JSON.stringify({ ok: voter, id, client, index, voter })}\n`);
  if (!voter) {
    const seconds = promotionWaitMs / 1000;
    io.stderr.write(`${io.program}: server ${id} is still a learner after ${seconds} s: the leader promotes it once it has caught up (is it running, with --join?); zraft members shows when\n`);
    return 1;
  }
  if (!json) io.stdout.write(`server ${id} caught up and is a voter\n`);
  return 0;
}

/** Whether the leader (whichever it is by then) has made `id` a voter within promotionWaitMs. */
async function waitForPromotion(id: number, config: ClusterConfig, curve: CurveClientKeys | undefined): Promise<boolean> {
  const deadline = performance.now() + promotionWaitMs;
  while (performance.now() < deadline) {
    const found = await leaderStatus(config, curve);
    if (typeof found !== "string" && found.status.members.some((member) => member.id === id && member.voter)) return true;
    await sleep(promotionPollMs);
  }
  return false;
}

/** `remove ID [--json]`. */
async function remove({ operands, args, config, curve, io }: Invocation): Promise<number> {
  const id = serverIdOf(operands[0] as string, "remove");
  const json = args.flags.has("json");
  const sent = await changeOnLeader((server, options) => sendAdmin(server, { action: "remove", target: id }, options), config, curve);
  if (typeof sent === "string" || sent.outcome.kind !== "done") return fail(typeof sent === "string" ? sent : describeOutcome(sent.outcome), json, io);
  const { index, members: after } = sent.outcome.reply;
  if (json) {
    io.stdout.write(`${JSON.stringify({ ok: true, id, index, members: after })}\n`);
    return 0;
  }
  // Dissertation §4.2.2: a leader that removed itself steps down once the change is committed.
  const led = sent.leader === id ? "; it led, and has stepped down: the voters left elect a leader" : "";
  io.stdout.write(`server ${id} removed (entry ${index}); voters now ${memberIds(after, true)}${led}\n`);
  return 0;
}

function fail(line: string, json: boolean, io: Invocation["io"]): number {
  if (json) io.stdout.write(`${JSON.stringify({ ok: false, message: line })}\n`);
  io.stderr.write(`${io.program}: ${line}\n`);
  return 1;
}

export const membershipCommands: Readonly<Record<string, (invocation: Invocation) => Promise<number>>> = { members, add, remove };
