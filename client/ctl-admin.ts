/**
 * The controller's actions on one server (docs/protocol.md §4, `admin`):
 * `timeout N` (campaign now), `step-down N`, `shutdown N`, `transfer N`
 * (hand leadership to N) and `snapshot N`. Each reports what happened in
 * one line and exits 0 on success, 1 when the cluster refused or a server
 * did not answer.
 */
import type { ClusterConfig, ServerConfig } from "../src/config/cluster-config.ts";
import type { CurveClientKeys } from "../src/net/curve-security.ts";
import { sendAdmin, type AdminOutcome } from "../src/client/admin-request.ts";
import { leaderStatus } from "./ctl-status.ts";

export type ServerAction = "timeout" | "step-down" | "shutdown" | "transfer" | "snapshot";

export interface ActionResult {
  readonly ok: boolean;
  /** One line for a person. */
  readonly line: string;
  /** What --json prints. */
  readonly json: unknown;
}

/** How long a server gets to answer an action; a transfer is answered once it is done, within an election timeout or two. */
export const actionTimeoutMs = 5_000;
/** A snapshot is answered once the whole store is written and fsync'd. */
const snapshotTimeoutMs = 60_000;

/** What a server that did not do the action did instead, for a line. */
export const describeOutcome = (outcome: AdminOutcome): string =>
  outcome.kind === "refused" ? `${outcome.code}: ${outcome.message}` : outcome.kind === "no-reply" ? outcome.message : "done";

/** The admin action `snapshot` on `target`: it snapshots now and answers once the snapshot is stored. */
export function takeSnapshot(target: ServerConfig, curve: CurveClientKeys | undefined): Promise<AdminOutcome<"snapshot">> {
  return sendAdmin(target, { action: "snapshot" }, { timeoutMs: snapshotTimeoutMs, ...(curve === undefined ? {} : { curve }) });
}

/** The server the others agree leads, or a sentence saying there is none. */
export async function leaderServer(config: ClusterConfig, curve: CurveClientKeys | undefined): Promise<{ readonly server: ServerConfig; readonly term: number } | string> {
  const found = await leaderStatus(config, curve);
  return typeof found === "string" ? found : { server: found.server, term: found.status.term };
}

export async function runServerAction(action: ServerAction, target: ServerConfig, config: ClusterConfig, curve: CurveClientKeys | undefined): Promise<ActionResult> {
  const options = { timeoutMs: actionTimeoutMs, ...(curve === undefined ? {} : { curve }) };
  if (action === "snapshot") {
    const outcome = await takeSnapshot(target, curve);
    const line =
      outcome.kind === "done"
        ? `server ${target.id} stored a snapshot up to entry ${outcome.reply.snapshotIndex} (term ${outcome.reply.snapshotTerm})`
        : `server ${target.id}: ${describeOutcome(outcome)}`;
    return { ok: outcome.kind === "done", line, json: outcome };
  }
  if (action !== "transfer") {
    const outcome = await sendAdmin(target, { action }, options);
    const line =
      outcome.kind !== "done"
        ? `server ${target.id}: ${describeOutcome(outcome)}`
        : {
            timeout: `server ${target.id} is campaigning for leadership now`,
            "step-down": `server ${target.id} stepped down and will not stand for one election timeout`,
            shutdown: `server ${target.id} is shutting down`,
          }[action];
    return { ok: outcome.kind === "done", line, json: outcome };
  }
  // A transfer is the leader's to make: ask the servers who leads, then ask the leader.
  const found = await leaderServer(config, curve);
  if (typeof found === "string") return { ok: false, line: `${found}, so there is no leadership to transfer; retry shortly`, json: { kind: "no-leader" } };
  const leader = { id: found.server.id, term: found.term };
  if (leader.id === target.id) return { ok: false, line: `server ${target.id} is already the leader (term ${leader.term})`, json: { kind: "already-leader" } };
  const started = performance.now();
  const outcome = await sendAdmin(found.server, { action: "transfer", target: target.id }, options);
  const elapsedMs = Math.round(performance.now() - started);
  const line =
    outcome.kind === "done"
      ? `leadership moved from server ${leader.id} to server ${target.id} in ${elapsedMs} ms`
      : `transfer from server ${leader.id} to server ${target.id} failed: ${describeOutcome(outcome)}`;
  return { ok: outcome.kind === "done", line, json: { ...outcome, from: leader.id, to: target.id, elapsedMs } };
}
