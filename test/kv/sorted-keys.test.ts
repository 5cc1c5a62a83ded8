/**
 * Proves that compareKeys orders strings exactly as the bytes of their UTF-8
 * (not as JavaScript's UTF-16 `<`, which differs once characters above
 * U+FFFF meet U+E000–U+FFFF), and that SortedKeys stays sorted and in step
 * with a plain set through thousands of random adds and deletes, across
 * chunk splits and removals.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SortedKeys, chunkKeysMax, compareKeys } from "../../src/kv/sorted-keys.ts";
import { SeededRandom } from "../../src/raft/index.ts";

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const alphabet = ["a", "b", "z", "é", "\u00ff", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "😀", "\u{10000}", "\u{10ffff}", "/"];

describe("compareKeys", () => {
  it("puts characters above U+FFFF after U+E000–U+FFFF, as UTF-8 does", () => {
    assert.ok("😀" < "\uffff", "UTF-16 order differs here");
    assert.ok(compareKeys("😀", "\uffff") > 0);
    assert.ok(compareKeys("\ue000", "\ud7ff") > 0);
    assert.equal(compareKeys("ab", "ab"), 0);
    assert.ok(compareKeys("a", "ab") < 0);
  });

  it("agrees with the byte order of UTF-8 on 20,000 random pairs", () => {
    const random = new SeededRandom(7);
    const word = () => Array.from({ length: random.intBetween(0, 4) }, () => alphabet[random.intBetween(0, alphabet.length - 1)]).join("");
    for (let pair = 0; pair < 20_000; pair++) {
      const [a, b] = [word(), word()];
      assert.equal(Math.sign(compareKeys(a, b)), Math.sign(utf8Order(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });
});

describe("SortedKeys", () => {
  it("matches a reference set through random adds and deletes", () => {
    const random = new SeededRandom(11);
    const keys = new SortedKeys();
    const reference = new Set<string>();
    for (let step = 0; step < 30_000; step++) {
      const key = `k${random.intBetween(0, 5_000)}${alphabet[random.intBetween(0, alphabet.length - 1)]}`;
      if (random.intBetween(0, 2) > 0) {
        assert.equal(keys.add(key), !reference.has(key));
        reference.add(key);
      } else {
        assert.equal(keys.delete(key), reference.delete(key));
      }
      assert.equal(keys.size, reference.size);
    }
    assert.ok(reference.size > chunkKeysMax * 4, "the test crossed several chunk splits");
    assert.deepEqual([...keys.from("")], [...reference].sort(utf8Order));
    const lower = "k25";
    assert.deepEqual([...keys.from(lower)], [...reference].filter((key) => utf8Order(key, lower) >= 0).sort(utf8Order));
  });

  it("empties and refills", () => {
    const keys = new SortedKeys();
    for (let key = 0; key < 2_000; key++) keys.add(String(key));
    for (let key = 0; key < 2_000; key++) assert.ok(keys.delete(String(key)));
    assert.equal(keys.size, 0);
    assert.deepEqual([...keys.from("")], []);
    assert.equal(keys.delete("1"), false);
    keys.add("b");
    keys.add("a");
    assert.deepEqual([...keys.from("")], ["a", "b"]);
    assert.deepEqual([...keys.from("c")], []);
  });
});
