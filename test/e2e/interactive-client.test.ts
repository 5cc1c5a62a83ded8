/**
 * Proves the interactive client (`npm run client` with no command,
 * docs/protocol.md §1) in a real pseudo-terminal, driven by key presses: it
 * lists the servers with who is up and who leads, lets the user pick one,
 * runs PUT / GET / LIST / CAS / DELETE / STATUS, tells the user when it is
 * redirected to the leader, when a server is not answering and when an
 * election is under way, and exits with code 0 on Ctrl-C or "quit".
 * Against a real five-server cluster, and against fake servers that
 * misbehave on purpose.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeCluster, behaviours } from "../client/fake-cluster.ts";
import { TestCluster, waitFor } from "./harness.ts";
import { TerminalSession, keys } from "./terminal-session.ts";

function startSession(t: import("node:test").TestContext, configPath: string): TerminalSession {
  const session = TerminalSession.start(["client/main.ts", "--config", configPath]);
  t.after(async () => {
    await session.kill();
    if ((t as unknown as { passed?: boolean }).passed === false) process.stderr.write(`--- terminal ---\n${session.screen}\n`);
  });
  return session;
}

function portOf(endpoint: string): string {
  return new URL(endpoint).port;
}

test("against a real cluster: pick a follower, PUT is redirected to the leader, GET, LIST, CAS, DELETE, STATUS, Ctrl-C", async (t) => {
  // Slower elections than the default: this test is about the client, and leadership should stay put while it types.
  const cluster = await TestCluster.start(t, { electionTimeoutMs: [400, 800] });
  await cluster.findLeader();
  const endpointOf = (id: number): string => cluster.config.servers.find((server) => server.id === id)?.client as string;

  const session = startSession(t, cluster.configPath);
  const list = await session.waitForText(/Which server[\s\S]*navigate/);
  const leaderLine = /server (\d) \(port (\d+)\): leader, term \d+/.exec(list);
  assert.ok(leaderLine !== null, "the list shows which server leads");
  const leaderId = Number(leaderLine[1]);
  assert.equal(leaderLine[2], portOf(endpointOf(leaderId)));
  const followerLine = /server (\d) \(port \d+\): follower, term \d+, leader is server (\d)/.exec(list);
  assert.ok(followerLine !== null, "the list shows the followers and their leader");
  assert.equal(Number(followerLine[2]), leaderId);
  const follower = Number(followerLine[1]);
  await session.choose("Which server", `server ${follower}`);

  let mark = session.mark();
  await session.choose("What next?", "PUT");
  await session.answer("key", "colour");
  await session.answer("value", "blue");
  const put = await session.waitForText(/OK: colour stored at index \d+/, { since: mark });
  assert.match(
    put,
    new RegExp(
      `redirected from server ${follower} \\(port ${portOf(endpointOf(follower))}\\) to the leader, server ${leaderId} \\(port ${portOf(endpointOf(leaderId))}\\)`,
    ),
  );

  mark = session.mark();
  await session.choose("What next?", "GET");
  await session.answer("key", "colour");
  await session.waitForText('colour = "blue"', { since: mark });

  mark = session.mark();
  await session.choose("What next?", "PUT");
  await session.answer("key", "count");
  await session.answer("value", "=41");
  await session.waitForText("OK: count stored", { since: mark });

  mark = session.mark();
  await session.choose("What next?", "CAS");
  await session.answer("key", "count");
  await session.answer("expected", "=41");
  await session.answer("new value", "=42");
  await session.waitForText(/swapped: count = 42 \(index \d+\)/, { since: mark });

  mark = session.mark();
  await session.choose("What next?", "LIST");
  await session.answer("prefix", "co");
  await session.waitForText(/colour = "blue"\s+count = 42/, { since: mark });

  mark = session.mark();
  await session.choose("What next?", "DELETE");
  await session.answer("key", "colour");
  await session.waitForText(/deleted colour \(index \d+\)/, { since: mark });

  mark = session.mark();
  await session.choose("What next?", "STATUS");
  const leaderPid = cluster.process(`server-${leaderId}`)?.pid;
  await session.waitForText(new RegExp(`server ${leaderId} \\(port \\d+\\): leader, term \\d+; commit \\d+, applied \\d+, last log \\d+, pid ${leaderPid}`), { since: mark });

  const stored = await cluster.client().get("count");
  assert.equal(stored.value, 42, "the session's writes are in the cluster");

  await session.waitForText("navigate", { since: mark });
  session.press(keys.ctrlC);
  assert.deepEqual(await session.exited, { code: 0, signal: null });
  assert.match(session.screen, /bye\s*$/);
});

/** A config file naming the fake servers, removed after the test. */
function writeFakeConfig(t: TestContext, fakes: FakeCluster): string {
  const dir = mkdtempSync(join(tmpdir(), "zraft-interactive-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configPath = join(dir, "cluster.json");
  writeFileSync(configPath, JSON.stringify({ servers: fakes.config.servers }));
  return configPath;
}

test("against misbehaving fake servers: not answering, election under way, then redirected; quit", async (t) => {
  const fakes = await FakeCluster.start(3);
  t.after(() => fakes.close());
  const configPath = writeFakeConfig(t, fakes);
  fakes.server(1).behaviour = behaviours.silent();
  fakes.server(2).behaviour = behaviours.noLeader();
  fakes.server(3).behaviour = behaviours.noLeader();

  const session = startSession(t, configPath);
  const list = await session.waitForText(/Which server[\s\S]*server 3 \(port \d+\)/);
  assert.match(list, /server 1 \(port \d+\): not answering/);
  assert.match(list, /server 2 \(port \d+\): candidate, term 1, no leader known/);
  await session.choose("Which server", "server 1");

  const mark = session.mark();
  await session.choose("What next?", "PUT");
  await session.answer("key", "k");
  // Elect server 3 once the client has been told "no leader" a few times.
  const electLater = setInterval(() => {
    const noLeaderAnswers = fakes.server(2).requestsOf("put").length + fakes.server(3).requestsOf("put").length;
    if (noLeaderAnswers >= 2) {
      fakes.elect(3);
      clearInterval(electLater);
    }
  }, 10);
  t.after(() => clearInterval(electLater));
  await session.answer("value", "v");
  const transcript = await session.waitForText(/OK: k stored at index 1/, { since: mark });
  assert.match(transcript, /server 1 \(port \d+\) is not answering, trying server 2 \(port \d+\)/);
  assert.match(transcript, /election under way, retrying in \d+ ms/);
  assert.match(transcript, /redirected from server [12] \(port \d+\) to the leader, server 3 \(port \d+\)/);
  assert.doesNotMatch(transcript, /working…  /, "notices are not written into the spinner's line");

  await session.choose("What next?", "quit");
  assert.deepEqual(await session.exited, { code: 0, signal: null });
});

test("Ctrl-C while a request is waiting for an answer ends the session with exit code 0", async (t) => {
  const fakes = await FakeCluster.start(1);
  t.after(() => fakes.close());
  const configPath = writeFakeConfig(t, fakes);
  fakes.server(1).behaviour = behaviours.silent();

  const session = startSession(t, configPath);
  await session.choose("Which server", "server 1");
  await session.choose("What next?", "GET");
  await session.answer("key", "k");
  await waitFor(() => fakes.server(1).requestsOf("get").length > 0, { what: "the GET to reach the server" });
  session.press(keys.ctrlC);
  assert.deepEqual(await session.exited, { code: 0, signal: null });
  assert.match(session.screen, /bye\s*$/);
});
