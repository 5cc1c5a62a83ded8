/**
 * The SVG chart of bench:election (src/failover/svg-chart.ts): a
 * well-formed XML document with one polyline per range whose points are
 * the expected step curve, tick labels on both axes, a legend entry per
 * range, and labels escaped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cdfSvg, escapeXml, stepCurve } from "../../src/failover/svg-chart.ts";

/**
 * A small well-formedness check, enough for what the writer produces: one
 * root, every tag closed in order, attributes quoted, no stray `<` or `&`.
 */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml [^?]*\?>\s*/, "");
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>/y;
  let at = 0;
  while (at < body.length) {
    const next = body.indexOf("<", at);
    const text = body.slice(at, next === -1 ? body.length : next);
    assert.doesNotMatch(text, /&(?!(?:amp|lt|gt|quot|apos);)/, `a bare & in text near ${at}`);
    if (next === -1) break;
    tag.lastIndex = next;
    const match = tag.exec(body);
    assert.ok(match !== null, `a malformed tag at ${next}: ${body.slice(next, next + 60)}`);
    const [whole, closing, name, , selfClosing] = match;
    if (closing === "/") assert.equal(stack.pop(), name, `</${name}> closes what was opened`);
    else if (selfClosing !== "/") {
      if (stack.length === 0) roots += 1;
      stack.push(name as string);
    } else if (stack.length === 0) roots += 1;
    at = next + whole.length;
  }
  assert.deepEqual(stack, [], "every element is closed");
  assert.equal(roots, 1, "one root element");
}

const series = [
  { label: "150-300 ms", values: [200, 100, 300, 300] },
  { label: "50-100 ms", values: [60, 80] },
];

test("the chart is well-formed XML with one polyline per range", () => {
  const svg = cdfSvg(series, { title: "a & b < c" });
  assertWellFormed(svg);
  assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.ok(svg.includes("a &amp; b &lt; c"));
  for (const label of ["150-300 ms (n=4)", "50-100 ms (n=2)"]) assert.ok(svg.includes(`>${label}</text>`), `legend ${label}`);
  for (const tick of ["0", "250", "500", "0%", "40%", "100%"]) assert.ok(svg.includes(`>${tick}</text>`), `tick ${tick}`);
  assert.ok(svg.includes("time without leader (ms)") && svg.includes("cumulative percent"));
});

test("each polyline is the range's step curve, in pixels", () => {
  // In data units: along 0 % to the first value, up a step at each value, on to the end of the axis.
  assert.deepEqual(stepCurve([200, 100, 300, 300], 500), [
    [0, 0],
    [100, 0],
    [100, 25],
    [200, 25],
    [200, 50],
    [300, 50],
    [300, 100],
    [500, 100],
  ]);
  // A 720 × 440 chart: the plot spans x 60..700 and y 390 (0 %) .. 40 (100 %); the axis ends at 500 ms.
  const svg = cdfSvg(series);
  const polylines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((match) => match[1]);
  assert.equal(polylines[0], "60,390 188,390 188,302.5 316,302.5 316,215 444,215 444,40 700,40");
  assert.equal(polylines[1], "60,390 136.8,390 136.8,215 162.4,215 162.4,40 700,40");
});

test("escapeXml escapes the five special characters", () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
});
