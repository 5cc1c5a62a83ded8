/**
 * `npm run forwarder -- [--config F] [--index I] [--log-level L] [--log-json F]`: one forwarder device in
 * the foreground (docs/protocol.md §1, §2). It binds `forwarders[I].pub` with an
 * XSUB socket (servers publish there) and `forwarders[I].sub` with an XPUB
 * socket (servers subscribe there) and relays between them.
 *
 * Exit codes: 0 after SIGINT/SIGTERM (or when the launcher that started it
 * is gone), 1 when an endpoint cannot be bound, 2 on a bad command line or
 * configuration.
 *
 * For tests only, `--allow-faults --control ENDPOINT` binds a control socket
 * through which messages can be dropped or delayed (docs/protocol.md §11).
 * Without `--allow-faults` no such socket exists, and `--control` alone is
 * refused, so a production forwarder cannot be told to drop messages.
 */
import type { XPublisher, XSubscriber } from "zeromq";
import { clusterKeyPair, configNameOf, type ForwarderConfig } from "../src/config/cluster-config.ts";
import type { CurveKeyPair } from "../src/config/curve-keys.ts";
import { closeLogger, createLogger } from "../src/logging/logging.ts";
import { createForwarderXPublisher, createForwarderXSubscriber } from "../src/net/sockets.ts";
import { UsageError, configFromArgs, integerOption, parseCommandLine, reportCommandLineError } from "../src/cli/args.ts";
import { logOptions, logSettingsFrom, type LogSettings } from "../src/cli/log-options.ts";
import { configOption, helpText, optionSpecOf, usageLine, type ProgramOption } from "../src/cli/program-options.ts";
import { MessageRelay } from "./message-relay.ts";
import { TrafficReport } from "./traffic-report.ts";
import { startBusSecurity, type BusSecurity } from "./bus-security.ts";
import { FaultRules, faultFilter } from "./fault-rules.ts";
import { ControlSocket } from "./control-socket.ts";
import { parentPidVariable, watchParentProcess } from "../src/cli/parent-watchdog.ts";

const command = "npm run forwarder --";

const options: readonly ProgramOption[] = [
  configOption,
  { name: "index", value: "I", help: 'which entry of the config\'s "forwarders" to run', fallback: "0" },
  ...logOptions,
  {
    name: "allow-faults",
    help: "testing only: with --control, take fault rules that drop or delay messages (docs/protocol.md §11)",
    fallback: "off: no fault can be injected",
  },
  { name: "control", value: "ENDPOINT", help: "testing only, with --allow-faults: bind ENDPOINT (REP) to take fault rules", fallback: "none" },
];

const usage = usageLine(command, options);

const help = helpText(
  command,
  [
    "One forwarder in the foreground: servers publish to its pub endpoint (XSUB) and subscribe at its sub",
    "endpoint (XPUB); it relays between the two. It logs at info when a server joins or leaves the bus and when",
    "traffic stops or starts again; the message rate every 5 s at debug.",
    "Exit codes: 0 after SIGINT or SIGTERM; 1 when an endpoint cannot be bound; 2 on a usage or config error.",
  ],
  options,
);

/** How often the forwarder looks at its relay: who is on the bus, and (every 5 s) the traffic. */
const reportIntervalMs = 1_000;

/**
 * Binds both sockets (their limits and CURVE settings live in
 * src/net/sockets.ts with every other socket's); on failure closes them and
 * throws an Error that names the endpoint and config field, or the
 * CurveUnavailableError of a CURVE setting libzmq cannot honour.
 */
async function bindSockets(endpoints: ForwarderConfig, index: number, security: BusSecurity): Promise<{ publishers: XSubscriber; subscribers: XPublisher }> {
  const publishers = createForwarderXSubscriber(security.publishersSocket);
  let subscribers: XPublisher;
  try {
    subscribers = createForwarderXPublisher(security.subscribersSocket);
  } catch (error) {
    publishers.close();
    throw error;
  }
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
  let controlEndpoint: string | undefined;
  let serverIds: number[];
  let curve: CurveKeyPair | undefined;
  let logSettings: LogSettings;
  try {
    const args = parseCommandLine(argv, optionSpecOf(options));
    if (args.flags.has("help")) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    controlEndpoint = args.values.get("control");
    if (controlEndpoint !== undefined && !args.flags.has("allow-faults")) {
      // One line, no usage text: this is a refusal, not a typo to correct.
      process.stderr.write("forwarder: refusing --control without --allow-faults: fault injection is for tests only (docs/protocol.md §11)\n");
      return 2;
    }
    if (args.flags.has("allow-faults") && controlEndpoint === undefined) throw new UsageError("--allow-faults needs --control ENDPOINT");
    const config = configFromArgs(args);
    serverIds = config.servers.map((server) => server.id);
    curve = config.curve === undefined ? undefined : clusterKeyPair(config.curve, configNameOf(args.values.get("config") ?? process.env.ZRAFT_CONFIG));
    index = integerOption(args, "index", 0);
    const chosen = config.forwarders[index];
    if (chosen === undefined) {
      throw new UsageError(`--index ${index} is out of range: the config has ${config.forwarders.length} forwarder(s)`);
    }
    endpoints = chosen;
    logSettings = logSettingsFrom(args);
  } catch (error) {
    const exitCode = reportCommandLineError("forwarder", error, usage);
    if (exitCode === undefined) throw error;
    return exitCode;
  }

  // The logger comes before the sockets: with CURVE, refusals are logged from the first connection on.
  const logger = createLogger({ serverName: `forwarder ${index}`, ...logSettings, showName: process.env[parentPidVariable] === undefined });
  let bus: BusSecurity;
  let sockets: { publishers: XSubscriber; subscribers: XPublisher };
  try {
    bus = await startBusSecurity(curve, logger);
    sockets = await bindSockets(endpoints, index, bus);
  } catch (error) {
    process.stderr.write(`forwarder: ${(error as Error).message}\n`);
    return 1;
  }
  const watching = [bus.watch(sockets.publishers, endpoints.pub), bus.watch(sockets.subscribers, endpoints.sub)];
  const rules = controlEndpoint === undefined ? undefined : new FaultRules();
  let control: ControlSocket | undefined;
  if (controlEndpoint !== undefined && rules !== undefined) {
    try {
      control = await ControlSocket.bind(controlEndpoint, rules, serverIds);
    } catch (error) {
      sockets.publishers.close();
      sockets.subscribers.close();
      process.stderr.write(`forwarder: ${(error as Error).message}\n`);
      return 1;
    }
  }
  // Before the line that says it is up: a SIGINT sent as soon as that line is read must stop it cleanly.
  const stopRequested = new Promise<string>((resolve) => {
    // `on`, not `once`: a second Ctrl-C while stopping must not kill the process with the default action.
    process.on("SIGINT", () => resolve("SIGINT"));
    process.on("SIGTERM", () => resolve("SIGTERM"));
    watchParentProcess(() => resolve("the launcher that started it is gone"));
  });
  logger.info(`pid ${process.pid}: publishers connect to ${endpoints.pub} (XSUB), subscribers to ${endpoints.sub} (XPUB)`);

  if (controlEndpoint !== undefined) logger.warn(`fault injection is on (testing only): control socket on ${controlEndpoint}`);

  const relay = new MessageRelay(sockets.publishers, sockets.subscribers, rules === undefined ? undefined : faultFilter(rules));
  const report = new TrafficReport(performance.now(), relay.counters);
  const reportTimer = setInterval(() => {
    for (const line of report.next(performance.now(), relay.counters, relay.subscribedServers)) logger.log(line.level, line.text);
  }, reportIntervalMs);

  const running = relay.run();
  const controlling = control?.run(logger) ?? Promise.resolve();
  // A failed ZAP handler would admit no one: bus.failed rejects, and the forwarder stops with the error.
  const reason = await Promise.race([stopRequested, running.then(() => "its sockets closed"), bus.failed]);
  clearInterval(reportTimer);
  relay.stop();
  control?.stop();
  await Promise.all([running, controlling]);
  await Promise.all(watching);
  await bus.close();
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
