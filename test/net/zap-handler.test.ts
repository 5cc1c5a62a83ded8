/**
 * Proves the ZAP handler (docs/protocol.md §10) on real sockets in one
 * process: a CURVE server socket with a ZAP domain admits a client whose
 * public key the domain lists and leaves any other client unanswered, with
 * the refusal reported with its address and key; with the handler gone the
 * socket refuses everyone rather than admitting everyone; a malformed
 * request on the ZAP endpoint gets an error answer and the handler goes on;
 * and a CURVE setting libzmq cannot honour stops with CurveUnavailableError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Request, curveKeyPair, type Router } from "zeromq";
import { decodeCurveKey } from "../../src/config/curve-keys.ts";
import { CurveUnavailableError, applyCurve, requireCurve } from "../../src/net/curve-security.ts";
import { createClientRequest, createClientRouter } from "../../src/net/sockets.ts";
import { ZapHandler, ZapHandlerError, decideZapRequest, zapEndpoint, type ZapRefusal } from "../../src/net/zap-handler.ts";

const keyBytes = (z85: string): Uint8Array => decodeCurveKey(z85) as Uint8Array;
const domain = "test-domain";

/** A ZAP request as libzmq frames it (ZeroMQ RFC 27). */
function zapRequest(fields: { domain?: string; mechanism?: string; credentials?: Uint8Array[] } = {}): Uint8Array[] {
  const frames = ["1.0", "7", fields.domain ?? domain, "192.0.2.1", "", fields.mechanism ?? "CURVE"].map((text) => Buffer.from(text));
  return [...frames, ...(fields.credentials ?? [])];
}

test("a ZAP request is admitted only for a CURVE key its domain lists", () => {
  const allowed = curveKeyPair();
  const other = curveKeyPair();
  const admissions = new Map([[domain, [keyBytes(allowed.publicKey)]]]);
  const status = (frames: Uint8Array[]): string => Buffer.from(decideZapRequest(frames, admissions).reply[2] as string).toString();

  const admitted = decideZapRequest(zapRequest({ credentials: [keyBytes(allowed.publicKey)] }), admissions);
  assert.equal(admitted.admitted, true);
  assert.equal(admitted.reply[0], "1.0");
  assert.equal(Buffer.from(admitted.reply[1] as Uint8Array).toString(), "7", "the request id is echoed");
  assert.equal(admitted.reply[2], "200");

  const refused = decideZapRequest(zapRequest({ credentials: [keyBytes(other.publicKey)] }), admissions);
  assert.equal(refused.admitted, false);
  assert.equal(refused.reply[2], "400");
  assert.equal(refused.request?.address, "192.0.2.1");
  assert.deepEqual(refused.request?.clientKey, keyBytes(other.publicKey));
  assert.match(refused.reason, /not admitted/);

  assert.equal(status(zapRequest({ domain: "other", credentials: [keyBytes(allowed.publicKey)] })), "400");
  assert.equal(status(zapRequest({ mechanism: "NULL" })), "400");
  assert.equal(status(zapRequest({ credentials: [new Uint8Array(31)] })), "400");
  assert.equal(status(zapRequest({ credentials: [keyBytes(allowed.publicKey), keyBytes(allowed.publicKey)] })), "400");
  assert.equal(status([Buffer.from("1.0"), Buffer.from("7")]), "500");
  assert.equal(status([Buffer.from("2.0"), ...zapRequest().slice(1)]), "500");
});

/** Sends one request on a fresh REQ socket and returns the reply's text, or undefined when none comes within `timeoutMs`. */
async function ask(socket: Request, endpoint: string, timeoutMs: number): Promise<string | undefined> {
  socket.receiveTimeout = timeoutMs;
  socket.connect(endpoint);
  try {
    await socket.send("ping");
    return (await socket.receive()).toString();
  } catch (error) {
    if ((error as { code?: unknown }).code === "EAGAIN") return undefined;
    throw error;
  } finally {
    socket.close();
  }
}

async function echoServer(router: Router): Promise<void> {
  try {
    for await (const [id, empty, body] of router) await router.send([id as Buffer, empty as Buffer, `echo ${String(body)}`]);
  } catch (error) {
    if (!router.closed) throw error;
  }
}

test("a CURVE server socket with a ZAP domain answers listed clients only, and refuses everyone once the handler is gone", async () => {
  const server = curveKeyPair();
  const allowed = curveKeyPair();
  const stranger = curveKeyPair();
  const refusals: ZapRefusal[] = [];
  const zap = await ZapHandler.start({ admissions: new Map([[domain, [keyBytes(allowed.publicKey)]]]), onRefused: (refusal) => refusals.push(refusal) });
  await assert.rejects(ZapHandler.start({ admissions: new Map(), onRefused: () => {} }), ZapHandlerError, "one handler per process");

  const router = createClientRouter({ role: "server", secretKey: server.secretKey, zapDomain: domain });
  await router.bind("tcp://127.0.0.1:0");
  const endpoint = router.lastEndpoint as string;
  const serving = echoServer(router);
  const client = (pair: { publicKey: string; secretKey: string }): Request =>
    createClientRequest({ role: "client", serverPublicKey: server.publicKey, publicKey: pair.publicKey, secretKey: pair.secretKey });
  try {
    assert.equal(await ask(client(allowed), endpoint, 5_000), "echo ping");
    assert.equal(await ask(client(stranger), endpoint, 1_000), undefined, "an unlisted key gets no answer");
    assert.ok(refusals.length >= 1, "the refusal was reported");
    const refusal = refusals[0] as ZapRefusal;
    assert.equal(refusal.domain, domain);
    assert.equal(refusal.address, "127.0.0.1");
    assert.deepEqual(refusal.clientKey, keyBytes(stranger.publicKey));
    assert.equal(await ask(new Request({ linger: 0 }), endpoint, 1_000), undefined, "a plaintext client gets no answer");

    // A malformed request on the ZAP endpoint itself: an error answer, and the handler serves on.
    const raw = new Request({ linger: 0, receiveTimeout: 5_000 });
    raw.connect(zapEndpoint);
    await raw.send(["9.9", "1"]);
    const answer = (await raw.receive()).map(String);
    raw.close();
    assert.deepEqual(answer.slice(0, 3), ["1.0", "1", "500"]);
    assert.equal(await ask(client(allowed), endpoint, 5_000), "echo ping", "still admits after a malformed request");

    await zap.close();
    assert.equal(await ask(client(allowed), endpoint, 1_000), undefined, "without a ZAP handler no one is admitted");
  } finally {
    router.close();
    await serving;
    await zap.close();
  }
});

test("a CURVE setting libzmq cannot honour stops with CurveUnavailableError, never a plaintext socket", () => {
  assert.throws(() => requireCurve({ curve: false }), CurveUnavailableError);
  assert.throws(() => requireCurve({}), /built without it/);
  const socket = new Request({ linger: 0 });
  try {
    assert.throws(() => applyCurve(socket, { role: "server", secretKey: "not a key" }), /libzmq refused a CURVE option/);
  } finally {
    socket.close();
  }
  assert.throws(() => createClientRouter({ role: "server", secretKey: "not a key" }), CurveUnavailableError);
});
