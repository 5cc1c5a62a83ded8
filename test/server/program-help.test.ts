/**
 * `--help` on the server and on `npm start` (issue 13): every option the
 * program takes, each with its default (or "required"), exit code 0; a bad
 * --log-level is one line naming the levels, with usage, and exit code 2.
 * (The forwarder's help is proven in test/forwarder/forwarder-process.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCommand } from "../e2e/harness.ts";

const programs = [
  { script: "src/server/main.ts", name: "zraft server", options: ["config FILE", "log-level LEVEL", "log-json FILE"], required: ["id N"] },
  { script: "scripts/cluster.ts", name: "cluster", options: ["config FILE", "log-level LEVEL", "log-json FILE"], required: [] },
];

for (const program of programs) {
  test(`${program.script} --help lists every option with its default`, async () => {
    const result = await runCommand([program.script, "--help"]);
    assert.equal(result.code, 0, result.stderr);
    for (const option of program.options) assert.match(result.stdout, new RegExp(`^  --${option} .*\\n +default: \\S`, "m"), option);
    for (const option of program.required) assert.match(result.stdout, new RegExp(`^  --${option} .*\\n +required$`, "m"), option);
    assert.match(result.stdout, /^ {2}--help +print this help and exit \(also -h\)$/m);
  });

  test(`${program.script} refuses a bad --log-level with one line and exit code 2`, async () => {
    const result = await runCommand([program.script, ...(program.required.length > 0 ? ["--id", "1"] : []), "--log-level", "verbose"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`^${program.name}: --log-level must be one of error, warn, info, debug, got "verbose"\\nusage: `));
  });
}
