/**
 * Proves that `zraft --help` and every command's `--help` list every option
 * the command takes with its default, and that `zraft completion bash|zsh`
 * prints scripts that complete exactly those commands and options (bash's
 * is run in bash, with the words a shell would pass it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { runZraft } from "../../client/zraft.ts";
import { commandDocs } from "../../client/commands.ts";
import { optionDocs, optionNames } from "../../client/options.ts";

const run = promisify(execFile);

async function zraft(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runZraft(argv, {
    stdout: { write: (chunk: string | Uint8Array) => (stdout += chunk.toString()) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
  });
  return { code, stdout, stderr };
}

/** Whether `help` lists option `name` with its default on the next line. */
function listsWithDefault(help: string, name: string): boolean {
  const lines = help.slice(help.indexOf("options")).split("\n");
  const index = lines.findIndex((line) => line.trimStart().startsWith(`--${name} `) || line.trim() === `--${name}`);
  return index !== -1 && (lines[index + 1] ?? "").trim() === `default: ${optionDocs[name as keyof typeof optionDocs].fallback}`;
}

test("zraft --help lists every command and every option with its default", async () => {
  const help = await zraft("--help");
  assert.equal(help.code, 0);
  for (const doc of commandDocs) assert.match(help.stdout, new RegExp(`^  ${doc.name}\\b`, "m"), doc.name);
  for (const name of optionNames) assert.ok(listsWithDefault(help.stdout, name), `--${name}`);
});

test("every command's --help lists each option it takes, with its default, and no other", async () => {
  for (const doc of commandDocs) {
    const help = await zraft(doc.name, "--help");
    assert.equal(help.code, 0, doc.name);
    assert.match(help.stdout, new RegExp(`^usage: zraft ${doc.name}`));
    for (const name of [...doc.options, "help"]) assert.ok(listsWithDefault(help.stdout, name), `${doc.name} --${name}`);
    for (const name of optionNames.filter((option) => option !== "help" && !doc.options.includes(option))) {
      assert.ok(!help.stdout.includes(`--${name} `) && !help.stdout.includes(`--${name}\n`), `${doc.name} does not list --${name}`);
    }
  }
});

/** What bash completes for `line` (the cursor at its end), with the script loaded. */
async function bashCompletes(script: string, line: string): Promise<string[]> {
  const words = line.split(" ");
  const program = `${script}\nCOMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _zraft; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run("bash", ["-c", program]);
  return stdout.split("\n").filter((word) => word !== "");
}

test("completion bash completes commands, each command's options and files for file options", async () => {
  const script = await zraft("completion", "bash");
  assert.equal(script.code, 0);
  assert.match(script.stdout, /complete -o default -F _zraft zraft/);
  await run("bash", ["-n", "-c", script.stdout]);
  assert.deepEqual(await bashCompletes(script.stdout, "zraft ge"), ["get"]);
  assert.deepEqual(await bashCompletes(script.stdout, "zraft s"), ["status", "step-down", "shutdown", "snapshot"]);
  assert.deepEqual(await bashCompletes(script.stdout, "zraft re"), ["remove", "restore"]);
  assert.deepEqual((await bashCompletes(script.stdout, "zraft add 6 --")).sort(), ["--client", "--config", "--help", "--json", "--key"]);
  assert.deepEqual(await bashCompletes(script.stdout, "zraft ctl mem"), ["members"]);
  assert.deepEqual((await bashCompletes(script.stdout, "zraft backup f.zbk --")).sort(), ["--config", "--help", "--json", "--key", "--server"]);
  assert.deepEqual((await bashCompletes(script.stdout, "zraft restore f.zbk --")).sort(), ["--config", "--help"]);
  assert.deepEqual(await bashCompletes(script.stdout, "zraft --config x.json get k --r"), ["--raw"]);
  assert.deepEqual((await bashCompletes(script.stdout, "zraft put k --")).sort(), ["--config", "--endpoints", "--file", "--help", "--json", "--json-value", "--key", "--server"]);
  assert.deepEqual(await bashCompletes(script.stdout, "zraft ctl step-down --j"), ["--json"]);
  assert.deepEqual(await bashCompletes(script.stdout, "zraft completion "), ["bash", "zsh"]);
  const dir = mkdtempSync(join(tmpdir(), "zraft-completion-"));
  try {
    for (const name of ["value-a.bin", "value-b.bin", "other"]) writeFileSync(join(dir, name), "");
    assert.deepEqual((await bashCompletes(script.stdout, `zraft put k --file ${dir}/value`)).sort(), [`${dir}/value-a.bin`, `${dir}/value-b.bin`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("completion zsh names every command and each command's options", async () => {
  const script = await zraft("completion", "zsh");
  assert.equal(script.code, 0);
  assert.match(script.stdout, /^#compdef zraft\n/);
  for (const doc of commandDocs) {
    assert.match(script.stdout, new RegExp(`^    '${doc.name}:`, "m"), `${doc.name} is offered`);
    const branch = script.stdout.split("\n").find((line) => line.trimStart().startsWith(`${doc.name}) _arguments`)) ?? "";
    for (const name of doc.options) assert.ok(branch.includes(`'--${name}[`), `${doc.name} completes --${name}`);
  }
  assert.match(script.stdout, /'--file\[[^\]]*\]:file:_files'/);
  const unknown = await zraft("completion", "fish");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^zraft: completion: no script for "fish"; the shells are bash, zsh\nusage: zraft completion bash\|zsh/);
});
