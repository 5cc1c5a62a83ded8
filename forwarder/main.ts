/**
 * `npm run forwarder -- [--config F] [--index I]`: one forwarder device in
 * the foreground (docs/protocol.md §1, §2). It binds `forwarders[I].pub` with an
 * XSUB socket (servers publish there) and `forwarders[I].sub` with an XPUB
 * socket (servers subscribe there) and relays between them.
 *
 * Exit codes: 0 after SIGINT/SIGTERM (or when the launcher that started it
 * is gone), 1 when an endpoint cannot be bound, 2 on a bad command line or
 * configuration.
 */
import type { XPublisher, XSubscriber } from "zeromq";
import type { ForwarderConfig } from "../src/config/cluster-config.ts";
import { closeLogger, createLogger } from "../src/logging/logging.ts";
import { createForwarderXPublisher, createForwarderXSubscriber } from "../src/net/sockets.ts";
import { UsageError, configFromArgs, integerOption, parseCommandLine, reportCommandLineError } from "../src/cli/args.ts";
import { MessageRelay, type RelayCounters } from "./message-relay.ts";
import { parentPidVariable, watchParentProcess } from "../src/cli/parent-watchdog.ts";

const usage = `usage: npm run forwarder -- [--config FILE] [--index I]
  --config FILE  cluster configuration (default: $ZRAFT_CONFIG, else the built-in cluster)
  --index I      which entry of "forwarders" to run (default 0)`;

const rateLogIntervalMs = 5_000;

function describeRate(now: RelayCounters, before: RelayCounters, seconds: number): string {
  const messages = now.messages - before.messages;
  const kib = (now.bytes - before.bytes) / 1024;
  const subscriptions = now.subscriptionChanges - before.subscriptionChanges;
  return (
    `relayed ${messages} messages in ${seconds} s (${(messages / seconds).toFixed(1)}/s, ${(kib / seconds).toFixed(1)} KiB/s)` +
    (subscriptions > 0 ? `, ${subscriptions} subscription changes` : "") +
    `; ${now.messages} in all`
  );
}

/**
 * Binds both sockets (their limits live in src/net/sockets.ts with every
 * other socket's); on failure closes them and throws an Error that names the
 * endpoint and config field.
 */
async function bindSockets(endpoints: ForwarderConfig, index: number): Promise<{ publishers: XSubscriber; subscribers: XPublisher }> {
  const publishers = createForwarderXSubscriber();
  const subscribers = createForwarderXPublisher();
  const bindOne = async (socket: XSubscriber | XPublisher, endpoint: string, field: string): Promise<void> => {
    try {
      await socket.bind(endpoint);
    } catch (error) {
      publishers.close();
      subscribers.close();
      throw new Error(`cannot bind ${endpoint} (forwarders[${index}].${field}): ${(error as Error).message}`, { cause: error });
    }
  };
  await bindOne(publishers, endpoints.pub, "pub");
  await bindOne(subscribers, endpoints.sub, "sub");
  return { publishers, subscribers };
}

async function main(argv: readonly string[]): Promise<number> {
  let endpoints: ForwarderConfig;
  let index: number;
  try {
    const args = parseCommandLine(argv, { flags: ["help"], values: ["config", "index"] });
    if (args.flags.has("help")) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    const config = configFromArgs(args);
    index = integerOption(args, "index", 0);
    const chosen = config.forwarders[index];
    if (chosen === undefined) {
      throw new UsageError(`--index ${index} is out of range: the config has ${config.forwarders.length} forwarder(s)`);
    }
    endpoints = chosen;
  } catch (error) {
    const exitCode = reportCommandLineError("forwarder", error, usage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }

  let sockets: { publishers: XSubscriber; subscribers: XPublisher };
  try {
    sockets = await bindSockets(endpoints, index);
  } catch (error) {
    process.stderr.write(`forwarder: ${(error as Error).message}\n`);
    return 1;
  }
  const logger = createLogger({ serverName: `forwarder ${index}`, level: "info", showName: process.env[parentPidVariable] === undefined });
  logger.info(`pid ${process.pid}: publishers connect to ${endpoints.pub} (XSUB), subscribers to ${endpoints.sub} (XPUB)`);

  const relay = new MessageRelay(sockets.publishers, sockets.subscribers);
  let reported = relay.counters;
  const rateTimer = setInterval(() => {
    const now = relay.counters;
    if (now.messages === reported.messages && now.subscriptionChanges === reported.subscriptionChanges) return;
    logger.info(describeRate(now, reported, rateLogIntervalMs / 1000));
    reported = now;
  }, rateLogIntervalMs);

  const stopRequested = new Promise<string>((resolve) => {
    // `on`, not `once`: a second Ctrl-C while stopping must not kill the process with the default action.
    process.on("SIGINT", () => resolve("SIGINT"));
    process.on("SIGTERM", () => resolve("SIGTERM"));
    watchParentProcess(() => resolve("the launcher that started it is gone"));
  });
  const running = relay.run();
  const reason = await Promise.race([stopRequested, running.then(() => "its sockets closed")]);
  clearInterval(rateTimer);
  relay.stop();
  await running;
  logger.info(`stopped (${reason}) after relaying ${relay.counters.messages} messages`);
  await closeLogger(logger);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`forwarder: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
