// Validates an AsyncAPI document with the official parser (@asyncapi/parser, pinned in
// package-lock.json): any diagnostic of severity error fails; warnings are printed. Also
// checks what the parser cannot know: every channel names a message, a producer and a
// schema version, and every message names its proto.
//   node validate-asyncapi.mjs docs/asyncapi.json
import fs from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const file = process.argv[2];
if (!file) { console.error('usage: node validate-asyncapi.mjs <asyncapi.json>'); process.exit(2); }
const { document, diagnostics } = await new Parser().parse(fs.readFileSync(file, 'utf8'));
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
for (const d of diagnostics) {
  const level = d.severity === DiagnosticSeverity.Error ? 'error' : 'warning';
  console.log(`${level}: ${d.code}: ${d.message} at ${d.path.join('.')}`);
}
if (errors.length > 0 || !document) {
  console.error(`${file}: ${errors.length} error(s): not a valid AsyncAPI document`);
  process.exit(1);
}
const problems = [];
for (const channel of document.channels()) {
  const json = channel.json();
  if (channel.messages().length === 0) problems.push(`${channel.id()}: no message`);
  if (!json['x-producer'] || !json['x-schema-version']) problems.push(`${channel.id()}: no producer or schema version`);
  if (document.operations().filterBy((op) => op.channels().all().some((c) => c.id() === channel.id()) && op.isSend()).length === 0) {
    problems.push(`${channel.id()}: nothing sends to it`);
  }
}
for (const message of document.components().messages()) {
  const json = message.json();
  if (message.name() !== 'DeadLetter' && !(json['x-protobuf-message'] && json['x-protobuf-payload-field'] && json['x-proto-file'])) {
    problems.push(`message ${message.name()}: no proto type`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`${file}: valid AsyncAPI ${document.version()}: ${document.channels().length} channels, ` +
  `${document.operations().length} operations, ${document.components().messages().length} messages`);
