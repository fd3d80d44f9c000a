// Validates an AsyncAPI document with the official parser (@asyncapi/parser) and prints a JSON
// report: {valid, errors, warnings, channels, operations, messages}. Exit code 1 when invalid.
// Usage: node tools/asyncapi/validate.mjs shared/schemas/asyncapi.json
import { Parser, fromFile } from '@asyncapi/parser';

const path = process.argv[2];
if (!path) {
  console.error('usage: node validate.mjs <asyncapi.json>');
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, path).parse();
// Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
const describe = (d) => ({ code: d.code, message: d.message, path: d.path.join('/') });
const errors = diagnostics.filter((d) => d.severity === 0).map(describe);
const warnings = diagnostics.filter((d) => d.severity === 1).map(describe);
const report = {
  valid: document !== undefined && errors.length === 0,
  errors,
  warnings,
  channels: document ? document.channels().all().map((c) => c.address()) : [],
  operations: document ? document.operations().all().map((o) => o.id()) : [],
  messages: document ? document.allMessages().all().map((m) => m.id()) : [],
};
console.log(JSON.stringify(report, null, 2));
process.exit(report.valid ? 0 : 1);
