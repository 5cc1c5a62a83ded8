/**
 * The interactive client's prompts without a terminal: keys read from raw
 * input (interactive-keys.ts), the line editor (interactive-line-editor.ts)
 * and the menu (interactive-menu.ts). Pasted text is one key per chunk, and
 * a line of a megabyte is taken, drawn and refused in linear time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { keysOf, type Key } from "../../client/interactive-keys.ts";
import { LineEditor } from "../../client/interactive-line-editor.ts";
import { Menu } from "../../client/interactive-menu.ts";

function typeInto(editor: LineEditor, chunk: string): string[] {
  return [...keysOf(chunk)].map((key) => editor.apply(key));
}

test("keysOf: a run of text is one key; Enter, Backspace, Ctrl-U, Ctrl-C, arrows; other escapes and controls dropped", () => {
  const keys: Key[] = [...keysOf("héllo 🌍\x1b[Cx\x7f\x08\x15\x1b[A\x1bOB\x01\r\n\x03\x1b[200~")];
  assert.deepEqual(keys, [
    { kind: "text", text: "héllo 🌍" },
    { kind: "text", text: "x" },
    { kind: "backspace" },
    { kind: "backspace" },
    { kind: "clear-line" },
    { kind: "up" },
    { kind: "down" },
    { kind: "enter" },
    { kind: "enter" },
    { kind: "interrupt" },
  ]);
});

test("LineEditor: typing, Backspace over a character beyond U+FFFF, Ctrl-U, Enter and Ctrl-C", () => {
  const editor = new LineEditor("ab", 100);
  assert.deepEqual(typeInto(editor, "c🌍"), ["editing"]);
  assert.equal(editor.text, "abc🌍");
  typeInto(editor, "\x7f");
  assert.equal(editor.text, "abc");
  typeInto(editor, "\x15");
  assert.equal(editor.text, "");
  assert.deepEqual(typeInto(editor, "z\r"), ["editing", "submit"]);
  assert.equal(editor.text, "z");
  assert.deepEqual(typeInto(editor, "\x03"), ["interrupt"]);
});

test("LineEditor: a line beyond maxChars is marked overflowed, keeps maxChars, and Ctrl-U starts afresh", () => {
  const editor = new LineEditor("", 10);
  typeInto(editor, "0123456789abc");
  assert.equal(editor.text, "0123456789");
  assert.equal(editor.overflowed, true);
  typeInto(editor, "\x15ok");
  assert.equal(editor.overflowed, false);
  assert.equal(editor.text, "ok");
});

test("LineEditor.view: whole when it fits, else the length and the end within the width", () => {
  const editor = new LineEditor("short", 2_000_000);
  assert.equal(editor.view(20), "short");
  typeInto(editor, "x".repeat(20_000) + "END");
  const view = editor.view(40);
  assert.match(view, /^\[20,008 characters\] …x+END$/);
  assert.ok(view.length <= 40, view);
});

test("a pasted megabyte costs linear time: taken, drawn once per 4 KiB chunk, and refused past the limit", () => {
  const editor = new LineEditor("", 1_048_576);
  const chunk = "v".repeat(4096);
  const startedAt = performance.now();
  for (let i = 0; i < 300; i++) {
    for (const key of keysOf(chunk)) editor.apply(key);
    editor.view(150);
  }
  const elapsedMs = performance.now() - startedAt;
  assert.equal(editor.text.length, 1_048_576);
  assert.equal(editor.overflowed, true);
  // Quadratic work (a redraw of the whole line per character) would take hours; this takes milliseconds.
  assert.ok(elapsedMs < 10_000, `${elapsedMs} ms`);
});

test("Menu: arrows wrap around, typing a name's start jumps to it, a pause starts a new search, Enter chooses", () => {
  const menu = new Menu(
    [
      { value: 1, name: "server 1 (port 5000): follower" },
      { value: 2, name: "server 2 (port 5001): leader" },
      { value: 3, name: "STATUS", description: "every server" },
    ],
    2,
  );
  assert.equal(menu.current.value, 2);
  menu.apply({ kind: "down" }, 0);
  menu.apply({ kind: "down" }, 0);
  assert.equal(menu.current.value, 1);
  menu.apply({ kind: "up" }, 0);
  assert.equal(menu.current.value, 3);
  menu.apply({ kind: "text", text: "server " }, 1000);
  menu.apply({ kind: "text", text: "2" }, 1100);
  assert.equal(menu.current.value, 2);
  menu.apply({ kind: "text", text: "st" }, 5000);
  assert.equal(menu.current.value, 3);
  menu.apply({ kind: "text", text: "x".repeat(1_000_000) }, 5100);
  assert.equal(menu.current.value, 3, "a paste that matches nothing leaves the cursor");
  assert.equal(menu.apply({ kind: "enter" }, 5200), "chosen");
  assert.equal(menu.apply({ kind: "interrupt" }, 5200), "interrupt");
});

test("Menu.lines: the cursor's choice marked, descriptions aligned, every line within the width, then the help line", () => {
  const menu = new Menu([{ value: "a", name: "PUT", description: "store a value under a key" }, { value: "b", name: "quit" }], "b");
  const lines = menu.lines(20);
  assert.deepEqual(lines.slice(0, 2), ["  PUT         store…", "❯ quit"]);
  assert.match(lines[2] ?? "", /navigate/);
  for (const line of lines) assert.ok(line.length <= 20, line);
});
