/**
 * Holds the code to the layers of docs/architecture.md §1: each folder
 * imports only the folders listed for it (all below it), the Raft core is
 * reached only through its index, and nothing outside test/ imports tests.
 * A new folder must be given its place here before it can import anything.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";

const root = join(import.meta.dirname, "../..");

/** The project folders each folder may import from, besides itself. */
const allowed: Readonly<Record<string, readonly string[]>> = {
  "src/base": [],
  "src/raft": ["src/base"],
  "src/msgpack": ["src/base"],
  "src/config": ["src/base"],
  "src/logging": ["src/base"],
  "src/net": ["src/base"],
  "src/cli": ["src/base", "src/config"],
  "src/storage": ["src/base", "src/raft"],
  "src/protocol": ["src/base", "src/raft", "src/msgpack", "src/config"],
  "src/state-machine": ["src/base", "src/raft"],
  "src/kv": ["src/base", "src/raft", "src/msgpack", "src/state-machine"],
  "src/transport": ["src/base", "src/raft", "src/config", "src/logging", "src/net", "src/protocol"],
  "src/runtime": ["src/base", "src/raft", "src/storage", "src/state-machine"],
  "src/service": ["src/base", "src/raft", "src/config", "src/protocol", "src/kv", "src/runtime"],
  "src/client": ["src/base", "src/config", "src/net", "src/protocol"],
  "src/backup": ["src/base", "src/raft", "src/storage", "src/kv"],
  "src/local-cluster": ["src/base", "src/config", "src/cli", "src/client"],
  "src/linearizability": ["src/base"],
  "src/chaos": ["src/base", "src/config", "src/cli", "src/client", "src/local-cluster", "src/linearizability", "src/protocol"],
  "src/failover": ["src/config", "src/cli", "src/net", "src/client", "src/local-cluster"],
  "src/bench": ["src/cli", "src/client", "src/local-cluster", "src/protocol", "src/failover"],
  "src/server": [
    "src/base",
    "src/raft",
    "src/config",
    "src/logging",
    "src/cli",
    "src/storage",
    "src/kv",
    "src/transport",
    "src/runtime",
    "src/service",
  ],
  client: ["src/base", "src/config", "src/cli", "src/net", "src/protocol", "src/client", "src/backup"],
  forwarder: ["src/config", "src/cli", "src/logging", "src/net"],
  scripts: ["src/config", "src/cli"],
};

/** Every TypeScript file under `dir`, as paths relative to the root. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** The project files `file` imports (relative specifiers only), as paths relative to the root. */
function importsOf(file: string): string[] {
  const source = readFileSync(join(root, file), "utf8");
  const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((match) => match[1] as string);
  return specifiers.map((specifier) => normalize(join(dirname(file), specifier)));
}

/** The folder a file belongs to in the table above. */
function folderOf(file: string): string {
  const [top, second] = file.split("/");
  return top === "src" ? `src/${second}` : (top as string);
}

const productionFiles = ["src", "client", "forwarder", "scripts", "bench"].flatMap(sourceFiles);

test("every folder imports only the folders below it", () => {
  const problems: string[] = [];
  for (const file of productionFiles) {
    const from = folderOf(file);
    const permitted = allowed[from];
    for (const target of importsOf(file)) {
      const to = folderOf(target);
      if (to === from) continue;
      if (from === "bench" ? !to.startsWith("src/") : !permitted?.includes(to)) problems.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(problems, [], "see the layers of docs/architecture.md §1");
});

test("the Raft core is imported only through its index (its own tests excepted)", () => {
  const outside = [...productionFiles, ...sourceFiles("test")].filter((file) => !file.startsWith("src/raft/") && !file.startsWith("test/raft/"));
  const problems = outside.flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith("src/raft/") && target !== "src/raft/index.ts")
      .map((target) => `${file} imports ${target}`),
  );
  assert.deepEqual(problems, []);
});

test("the runtime knows no keys, values, sessions or client protocol", () => {
  const runtime = sourceFiles("src/runtime").flatMap(importsOf);
  assert.deepEqual(
    runtime.filter((target) => target.startsWith("src/kv/") || target.startsWith("src/protocol/")),
    [],
  );
});

test("only tests import tests", () => {
  const problems = productionFiles.flatMap((file) => importsOf(file).filter((target) => target.startsWith("test/")).map((target) => `${file} imports ${target}`));
  assert.deepEqual(problems, []);
});

test("the table names every folder there is", () => {
  const folders = readdirSync(join(root, "src")).map((name) => `src/${name}`);
  assert.deepEqual(folders.filter((folder) => !(folder in allowed)), []);
});
