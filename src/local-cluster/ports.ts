/**
 * Loopback ports for clusters started on this machine. Several test files,
 * a benchmark and a demo may each start a cluster at the same time, so a
 * port is reserved machine-wide before it is handed out.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProcessAlive } from "./process-alive.ts";

const handedOut = new Set<number>();
/** Below Linux's ephemeral range (32768+), so that no outgoing connection can take a port before its server binds it. */
const portRange = { low: 20_000, high: 32_000 } as const;
/**
 * Reservations shared by every process on the machine: one file per port
 * holding its owner's pid. A port whose server is down for a while looks
 * free to a bind check, so a bind check alone lets two clusters collide.
 * The name predates the benchmarks; changing it would let a process running
 * older code hand out the same ports.
 */
const reservationDir = join(tmpdir(), "zraft-test-ports");

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Takes the machine-wide reservation of `port`, or a stale one whose owner has exited. */
function reserve(port: number): boolean {
  const file = join(reservationDir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      return true;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(file, "utf8"));
      } catch {
        continue; // released meanwhile: try to take it again
      }
      if (owner > 0 && isProcessAlive(owner)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

process.on("exit", () => {
  for (const port of handedOut) rmSync(join(reservationDir, String(port)), { force: true });
});

/**
 * `count` distinct TCP ports that are free on 127.0.0.1 now and reserved for
 * this process until it exits, so that processes running in parallel never
 * share one. Picked at random to keep contention low.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  mkdirSync(reservationDir, { recursive: true });
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 1000) throw new Error(`could not find ${count} free loopback ports`);
    const port = portRange.low + Math.floor(Math.random() * (portRange.high - portRange.low));
    if (handedOut.has(port) || !reserve(port)) continue;
    handedOut.add(port);
    if (!(await canBind(port))) continue;
    ports.push(port);
  }
  return ports;
}
