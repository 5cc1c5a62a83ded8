/**
 * Server logging: one readable console line per event (time, level, server,
 * sentence, fields) without colour off a terminal; the same events as JSON
 * lines in the --log-json file, all flushed by closeLogger(); levels filter;
 * the Logger adapter keeps winston's own keys from being overwritten by
 * fields; LogThrottle keeps a flood of one kind of event to one line per
 * interval and reports what it left out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { closeLogger, createLogger, loggerFrom } from "../../src/logging/logging.ts";
import { LogThrottle } from "../../src/logging/log-throttle.ts";
import { eventually } from "../transport/eventually.ts";
import { RecordingLogger } from "./recording-logger.ts";

function captureConsole(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  return { stream, lines: () => text.split("\n").filter((line) => line !== "") };
}

test("console lines are readable and plain; JSON lines carry the same events", async () => {
  const directory = mkdtempSync(join(tmpdir(), "zraft-logging-"));
  try {
    const jsonFile = join(directory, "server-3.jsonl");
    const console = captureConsole();
    const logger = createLogger({ serverName: "server 3", level: "info", jsonFile, console: console.stream, colour: false });
    const raft = loggerFrom(logger);
    raft.info("elected leader for term 7", { term: 7, votes: 4 });
    raft.debug("not shown at info");
    raft.warn("odd fields", { message: "clash", level: "x", data: Buffer.alloc(300), big: 2n ** 64n, error: new Error("boom") });
    for (let i = 0; i < 500; i++) raft.info(`line ${i}`);
    await closeLogger(logger);

    const lines = console.lines();
    assert.equal(lines.length, 502);
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} info  server 3 elected leader for term 7 \{term: 7, votes: 4\}$/);
    assert.match(lines[1]!, /^\d\d:\d\d:\d\d\.\d{3} warn  server 3 odd fields \{/);
    assert.ok(lines[1]!.includes("message_: 'clash'") && lines[1]!.includes("level_: 'x'"));
    assert.ok(lines[1]!.includes("data: '<300 bytes>'") && lines[1]!.includes("error: 'Error: boom'"));
    assert.ok(!lines.some((line) => line.includes("\x1b[")), "no colour codes");

    const records = readFileSync(jsonFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(records.length, 502, "every line reached the file before closeLogger() resolved");
    assert.deepEqual({ ...records[0], time: undefined }, {
      time: undefined,
      level: "info",
      server: "server 3",
      message: "elected leader for term 7",
      term: 7,
      votes: 4,
    });
    assert.ok(!Number.isNaN(Date.parse(String(records[0]!.time))));
    assert.equal(records[1]!.message, "odd fields");
    assert.equal(records[1]!.message_, "clash");
    assert.equal(records[1]!.data, "<300 bytes>");
    assert.equal(records[1]!.big, "18446744073709551616");
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test("a cyclic field does not make logging throw", async () => {
  const console = captureConsole();
  const directory = mkdtempSync(join(tmpdir(), "zraft-logging-"));
  try {
    const jsonFile = join(directory, "log.jsonl");
    const logger = createLogger({ serverName: "server 1", level: "debug", jsonFile, console: console.stream, colour: false });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    loggerFrom(logger).debug("cyclic", { cyclic });
    await closeLogger(logger);
    assert.match(console.lines()[0]!, /debug server 1 cyclic \{cyclic: <ref \*1>/);
    assert.match(readFileSync(jsonFile, "utf8"), /"message":"cyclic"/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test("a JSON log file that cannot be written is refused at start-up", () => {
  const directory = mkdtempSync(join(tmpdir(), "zraft-logging-"));
  try {
    const jsonFile = join(directory, "missing", "log.jsonl");
    assert.throws(() => createLogger({ serverName: "server 1", level: "info", jsonFile }), /cannot write the JSON log file .*missing\/log\.jsonl: ENOENT/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test("a JSON log file that fails later (disk full) is reported once, and the console goes on", { skip: existsSync("/dev/full") ? false : "no /dev/full on this machine to make a write fail" }, async () => {
  const console = captureConsole();
  const logger = createLogger({ serverName: "server 1", level: "info", jsonFile: "/dev/full", console: console.stream, colour: false });
  logger.info("first");
  await eventually("the failure is reported", () => console.lines().some((line) => line.includes("its lines are lost")));
  logger.info("second");
  await closeLogger(logger);
  const lines = console.lines();
  assert.equal(lines.filter((line) => line.includes("its lines are lost")).length, 1);
  assert.ok(lines.some((line) => line.endsWith("server 1 second")));
});

test("colour marks the level only when asked for", async () => {
  const console = captureConsole();
  const logger = createLogger({ serverName: "server 2", level: "debug", console: console.stream, colour: true });
  logger.error("disk full");
  await closeLogger(logger);
  assert.match(console.lines()[0]!, /^\S+ \x1b\[31merror\x1b\[0m server 2 disk full$/);
});

test("LogThrottle: one line per kind per interval, then a count of what was left out", () => {
  const logger = new RecordingLogger();
  let nowMs = 0;
  const throttle = new LogThrottle(logger, 1_000, () => nowMs);
  throttle.warn("bad input", "dropped bad input A");
  throttle.warn("bad input", "dropped bad input B");
  throttle.warn("bad input", "dropped bad input C");
  throttle.debug("disconnect", "a client left");
  assert.deepEqual(
    logger.records.map((record) => [record.level, record.message]),
    [
      ["warn", "dropped bad input A"],
      ["debug", "a client left"],
    ],
  );
  nowMs = 1_000;
  throttle.warn("bad input", "dropped bad input D", { from: 2 });
  assert.deepEqual(logger.records[2], {
    level: "warn",
    message: "dropped bad input D (and 2 more like it since the last one)",
    fields: { from: 2 },
  });
});
