/**
 * `zraft completion bash|zsh`: a shell completion script for the commands
 * and options of commands.ts and options.ts, so that it lists exactly what
 * the parser accepts. Options that take a file complete file names; keys
 * are not completed (that would need the cluster).
 */
import { UsageError } from "../src/cli/args.ts";
import { commandDocs } from "./commands.ts";
import { optionDocs, optionNames, type OptionName } from "./options.ts";

export const completionShells = ["bash", "zsh"] as const;

const takesValue = (name: OptionName): boolean => optionDocs[name].value !== undefined;
const takesFile = (name: OptionName): boolean => optionDocs[name].value === "FILE";
const optionWords = (names: readonly OptionName[]): string => [...names, "help" as const].map((name) => `--${name}`).join(" ");

/** The operands that can be completed from a fixed list. */
const operandWords: Readonly<Record<string, readonly string[]>> = { completion: completionShells };

function bashScript(): string {
  const valueOptions = optionNames.filter(takesValue).map((name) => `--${name}`);
  const fileOptions = optionNames.filter(takesFile).map((name) => `--${name}`);
  const cases = commandDocs.map((doc) => {
    const operands = operandWords[doc.name];
    const operandLine = operands === undefined ? "" : ` [[ $cur != -* ]] && words="${operands.join(" ")}";`;
    return `    ${doc.name}) words="${optionWords(doc.options)}";${operandLine} ;;`;
  });
  return `# bash completion for zraft. Install: add  source <(zraft completion bash)  to ~/.bashrc,
# or save it as ~/.local/share/bash-completion/completions/zraft
_zraft() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} command="" words i
  case $prev in
    ${fileOptions.join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    ${valueOptions.filter((name) => !fileOptions.includes(name)).join("|")}) COMPREPLY=(); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      ${valueOptions.join("|")}) ((i++)) ;;
      -*|ctl) ;;
      *) command=\${COMP_WORDS[i]}; break ;;
    esac
  done
  case $command in
    "") words="${commandDocs.map((doc) => doc.name).join(" ")} ${optionWords(optionNames.filter((name) => name !== "help"))}" ;;
${cases.join("\n")}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _zraft zraft
`;
}

/** Text for inside a zsh _arguments description: no brackets, colons escaped, single quotes closed and reopened for a '…' string. */
const zshText = (text: string): string => text.replace(/[[\]]/g, "").replace(/:/g, "\\:").replace(/'/g, "'\\''");

/** The start of an option's help, up to its first colon, semicolon or parenthesis: a menu has one line for it. */
const shortHelp = (help: string): string => (/^[^:;(]*/.exec(help)?.[0] ?? help).trim();

function zshOptionSpecs(names: readonly OptionName[]): string {
  return [...names, "help" as const]
    .map((name) => {
      const doc = optionDocs[name];
      const value = doc.value === undefined ? "" : `:${doc.value.toLowerCase()}:${doc.value === "FILE" ? "_files" : " "}`;
      return `'--${name}[${zshText(shortHelp(doc.help))}]${value}'`;
    })
    .join(" ");
}

function zshScript(): string {
  const cases = commandDocs.map((doc) => {
    const operands = operandWords[doc.name];
    const operandSpec = operands === undefined ? "'*::operand: '" : `'1:shell:(${operands.join(" ")})'`;
    return `      ${doc.name}) _arguments ${zshOptionSpecs(doc.options)} ${operandSpec} ;;`;
  });
  return `#compdef zraft
# zsh completion for zraft. Install: zraft completion zsh > ~/.zfunc/_zraft, and in ~/.zshrc
# fpath=(~/.zfunc $fpath) before compinit (or, without a file: source <(zraft completion zsh))
_zraft() {
  local -a commands
  commands=(
${commandDocs.map((doc) => `    '${doc.name}:${zshText(doc.summary)}'`).join("\n")}
  )
  local curcontext=$curcontext state line
  _arguments -C ${zshOptionSpecs(["config", "key"])} '1: :->command' '*:: :->operands'
  case $state in
    command) _describe -t commands 'zraft command' commands ;;
    operands)
      case $line[1] in
${cases.join("\n")}
      esac ;;
  esac
}
# Autoloaded from fpath, this file is the body of _zraft; sourced, it registers _zraft.
if [[ $funcstack[1] == _zraft ]]; then _zraft "$@"; else compdef _zraft zraft; fi
`;
}

/**
 * The completion script for `shell`.
 * @throws UsageError for a shell it has none for
 */
export function completionScript(shell: string): string {
  if (shell === "bash") return bashScript();
  if (shell === "zsh") return zshScript();
  throw new UsageError(`completion: no script for "${shell}"; the shells are ${completionShells.join(", ")}`);
}
