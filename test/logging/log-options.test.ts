/**
 * The `--log-level` and `--log-json` options every long-running program
 * takes (src/cli/log-options.ts), and the help made from an option table
 * (src/cli/program-options.ts): a bad level or an unwritable file is a
 * usage error naming the option; the settings pass on to a child as
 * arguments that parse back to the same settings; help lists every option
 * with its default.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isShownAt } from "../../src/base/log-levels.ts";
import { UsageError, parseCommandLine } from "../../src/cli/args.ts";
import { logArgumentsOf, logOptions, logSettingsFrom } from "../../src/cli/log-options.ts";
import { configOption, helpText, optionSpecOf } from "../../src/cli/program-options.ts";

const options = [{ name: "id", value: "N", help: "which one", fallback: "required" }, configOption, ...logOptions];
const parse = (argv: readonly string[]) => logSettingsFrom(parseCommandLine(argv, optionSpecOf(options)));

test("the level defaults to info, and a level that is not one of the four is a usage error naming them", () => {
  assert.deepEqual(parse([]), { level: "info" });
  for (const level of ["error", "warn", "info", "debug"]) assert.equal(parse(["--log-level", level]).level, level);
  assert.throws(() => parse(["--log-level", "verbose"]), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, '--log-level must be one of error, warn, info, debug, got "verbose"');
    return true;
  });
});

test("--log-json is made absolute and created; a file that cannot be appended to is a usage error", () => {
  const directory = mkdtempSync(join(tmpdir(), "zraft-log-options-"));
  try {
    const settings = parse(["--log-json", join(directory, "all.jsonl")]);
    assert.equal(settings.jsonFile, join(directory, "all.jsonl"));
    assert.ok(existsSync(join(directory, "all.jsonl")));
    assert.throws(() => parse(["--log-json", join(directory, "missing", "x.jsonl")]), /^UsageError: --log-json: cannot append to .*missing\/x\.jsonl: ENOENT$/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test("the settings pass on to a child as arguments that parse back to the same settings", () => {
  const directory = mkdtempSync(join(tmpdir(), "zraft-log-options-"));
  try {
    for (const settings of [{ level: "warn" as const }, { level: "debug" as const, jsonFile: join(directory, "a.jsonl") }]) {
      assert.deepEqual(parse(logArgumentsOf(settings)), settings);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test("help lists every option, --help included, each with its default", () => {
  const help = helpText("npm run thing --", ["Does a thing."], options);
  assert.match(help, /^usage: npm run thing -- --id N \[--config FILE\] \[--log-level LEVEL\] \[--log-json FILE\]\n\nDoes a thing\.\n\noptions:\n/);
  assert.match(help, /^  --id N +which one\n +required$/m);
  for (const name of ["config", "log-level", "log-json"]) {
    assert.match(help, new RegExp(`^  --${name}\\b.*\\n {4,}default: \\S`, "m"), name);
  }
  assert.match(help, /  --help +print this help and exit \(also -h\)$/);
  assert.match(help, /--log-level LEVEL +the least severe events shown: error, warn, info, debug.*\n +default: info$/m);
});

test("a threshold shows its own level and every more severe one", () => {
  assert.ok(isShownAt("error", "info") && isShownAt("info", "info"));
  assert.ok(!isShownAt("debug", "info") && !isShownAt("info", "warn"));
});
