/**
 * Renders any value the store can hold as JSON text, for `--json` and for
 * showing values to people. MessagePack holds more than JSON, so:
 *   - integers beyond 2^53 (bigints) are written as plain digits, exact
 *     (JSON allows any number of digits; a reader that wants them exact must
 *     parse big numbers, as `jq` 1.7 and Python do);
 *   - binary is written as `{"$binary": "<base64>"}`;
 *   - a map with keys other than strings as `{"$map": [[key, value], ...]}`;
 *   - a timestamp as its ISO 8601 string;
 *   - undefined, NaN and the infinities as null (JSON has no such values).
 * Keys such as `__proto__` are written like any other.
 */
export function toJsonText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "bigint":
      return value.toString();
    case "object":
      return objectText(value);
    default:
      return "null";
  }
}

function objectText(value: object): string {
  if (value instanceof Uint8Array) return `{"$binary":${JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"))}}`;
  if (value instanceof Date) return JSON.stringify(Number.isNaN(value.getTime()) ? null : value.toISOString());
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`;
  if (value instanceof Map) return `{"$map":[${[...value].map(([key, item]) => `[${toJsonText(key)},${toJsonText(item)}]`).join(",")}]}`;
  return `{${Object.keys(value)
    .map((key) => `${JSON.stringify(key)}:${toJsonText((value as Record<string, unknown>)[key])}`)
    .join(",")}}`;
}
