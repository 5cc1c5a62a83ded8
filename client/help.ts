/**
 * The help texts of `zraft` and of each of its commands, made from the
 * tables of commands.ts and options.ts so that they list every option with
 * its default and cannot drift from what the parser accepts.
 */
import { commandDocs, interactiveOptions, type CommandDoc, type CommandGroup } from "./commands.ts";
import { optionDocs, optionNames, type OptionName } from "./options.ts";

const exitCodes = "exit codes: 0 success; 1 failure, with one line on stderr; 2 usage or config error";

const groupTitles: Readonly<Record<CommandGroup, string>> = {
  data: "data commands",
  cluster: "cluster commands",
  shell: "shell",
};

/** `zraft get KEY`, as usage lines show it. */
export function synopsis(doc: CommandDoc): string {
  return `zraft ${doc.name}${doc.operands === "" ? "" : ` ${doc.operands}`}`;
}

/** The usage line printed after a usage error. */
export function usageLine(doc: CommandDoc | undefined): string {
  return doc === undefined
    ? "usage: zraft [options] COMMAND ...  (zraft --help lists the commands)"
    : `usage: ${synopsis(doc)} [options]  (zraft ${doc.name} --help lists them)`;
}

function optionLines(names: readonly OptionName[]): string[] {
  return [...names, "help" as const].flatMap((name) => {
    const doc = optionDocs[name];
    const title = `--${name}${doc.value === undefined ? "" : ` ${doc.value}`}`;
    return [`  ${title.padEnd(20)}${doc.help}`, `  ${"".padEnd(20)}default: ${doc.fallback}`];
  });
}

/** `zraft --help`. */
export function mainHelp(): string {
  const width = Math.max(...commandDocs.map((doc) => synopsis(doc).length - "zraft ".length));
  const groups = (Object.keys(groupTitles) as CommandGroup[]).flatMap((group) => [
    `${groupTitles[group]}:`,
    ...commandDocs.filter((doc) => doc.group === group).map((doc) => `  ${synopsis(doc).slice("zraft ".length).padEnd(width)}  ${doc.summary}`),
  ]);
  return [
    "usage: zraft [options] COMMAND [OPERANDS]   one command, for scripts and people",
    "       zraft [--config FILE] [--key FILE]  the interactive client",
    "From the project folder, npm run client -- ... is the same as zraft ..., and npm run ctl -- COMMAND as zraft COMMAND.",
    "",
    ...groups,
    "",
    "options (each command takes those its --help lists):",
    ...optionLines(optionNames.filter((name) => name !== "help")),
    "",
    exitCodes,
    "zraft COMMAND --help describes COMMAND and lists its options with their defaults.",
  ].join("\n");
}

/** `zraft COMMAND --help`. */
export function commandHelp(doc: CommandDoc): string {
  return [`usage: ${synopsis(doc)} [options]`, "", doc.summary, ...doc.details, "", "options:", ...optionLines(doc.options), "", exitCodes].join("\n");
}

/** The interactive client's options, for the usage error of an option it does not take. */
export function interactiveUsage(): string {
  return `usage: zraft ${interactiveOptions.map((name) => `[--${name} ${optionDocs[name].value}]`).join(" ")}  (the interactive client; zraft --help lists the commands)`;
}
