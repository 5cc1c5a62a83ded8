/**
 * A process that has used up its ZeroMQ sockets (ZeroMQ's context admits
 * 1023 by default, and every ZraftClient holds two: its REQ socket and the
 * monitor watching it) gets an error that says so at its first operation.
 * Found at 1000 benchmark clients in one process: the operations failed
 * after their deadline with "no leader: ... could not be connected to",
 * blaming every server for the client's own limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Request } from "zeromq";
import { ZraftError } from "../../src/protocol/errors.ts";
import { ZraftClient } from "../../src/client/zraft-client.ts";
import { notRunningEndpoint } from "./fake-cluster.ts";
import { defaultClusterConfig } from "../../src/config/cluster-config.ts";

test("out of ZeroMQ sockets: the operation fails at once, naming the limit, not the servers", async () => {
  const endpoint = await notRunningEndpoint();
  const fillers: Request[] = [];
  try {
    // Fill the context; a cap keeps a context without a limit from looping for ever.
    for (let count = 0; count < 100_000; count++) {
      try {
        fillers.push(new Request());
      } catch (error) {
        assert.equal((error as { code?: unknown }).code, "EMFILE", String(error));
        break;
      }
    }
    const client = new ZraftClient({ config: { ...defaultClusterConfig(), servers: [{ id: 1, client: endpoint }] }, requestTimeoutMs: 1_000, deadlineMs: 20_000 });
    try {
      const startedMs = performance.now();
      const error: unknown = await client.put("k", "v").then(
        () => assert.fail("the put succeeded"),
        (rejection: unknown) => rejection,
      );
      assert.ok(!(error instanceof ZraftError), `not a server's error code: ${String(error)}`);
      assert.match(String(error), /ZeroMQ sockets|EMFILE/);
      assert.doesNotMatch(String(error), /could not be connected to|no leader/);
      assert.ok(performance.now() - startedMs < 10_000, "failed at once, not after the deadline");
    } finally {
      client.close();
    }
  } finally {
    for (const socket of fillers) socket.close();
  }
});
