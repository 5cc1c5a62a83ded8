import { readFileSync } from "node:fs";

/**
 * Reads and parses a JSON file that a person wrote. `fail` turns a problem
 * into the caller's own error, naming the file (field "(file)").
 */
export function readJsonFile(path: string, fail: (problem: string) => never): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return fail(`cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    return fail(`is not valid JSON: ${(error as Error).message}`);
  }
}
