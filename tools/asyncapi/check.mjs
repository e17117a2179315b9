// Parse an AsyncAPI document with the official parser, as integrators' tools do.
// Usage: node check.mjs FILE  ->  prints {"errors": [...], "warnings": [...], "channels": N,
// "messages": N} as JSON; exits 1 when the parser reports an error or gives no document.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const text = await readFile(process.argv[2], "utf8");
const { document, diagnostics } = await new Parser().parse(text);
const shown = (d) => ({ code: d.code, message: d.message, path: d.path.join("/") });
const report = {
  errors: diagnostics.filter((d) => d.severity === 0).map(shown),
  warnings: diagnostics.filter((d) => d.severity === 1).map(shown),
  channels: document ? document.channels().length : 0,
  messages: document ? document.allMessages().length : 0,
  servers: document ? document.servers().all().map((s) => s.id()) : [],
};
console.log(JSON.stringify(report));
process.exit(document && report.errors.length === 0 ? 0 : 1);
