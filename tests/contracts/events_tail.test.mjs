// `pcctl events tail --json` against the real broker (the `kafka` fixture) and the real
// invitation service (tests/browser/harness.mjs): an invitation created through the API shows
// up as one JSON line — the envelope in protobuf's JSON mapping, with its key and headers —
// while tailing live, and again when reading from the beginning.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { System } from '../browser/harness.mjs';

const system = new System();
before(async () => { await system.start({ browser: false }); });
after(async () => { await system.stop(); });

const topic = 'partnercenter.global.invitation-events.v1';
const tailArgs = (...more) => ['events', 'tail', 'invitation-events', '--json', '--cloud=global',
  `--kafka_brokers=${system.brokers}`, ...more];

// Resolves with the first line of `stream` that `match` accepts (the test's timeout bounds it).
function firstLine(stream, match) {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: stream });
    const seen = [];
    lines.on('line', (line) => {
      seen.push(line);
      if (match(line)) { resolve(line); lines.close(); }
    });
    lines.on('close', () => reject(new Error(`stream ended first; it said:\n${seen.join('\n')}`)));
  });
}

function assertInvitationSent(line, invitationId, partner) {
  const record = JSON.parse(line);
  assert.equal(record.topic, topic);
  assert.equal(record.key, invitationId);
  assert.equal(typeof record.partition, 'number');
  assert.equal(record.headers['event-type'], 'InvitationSent');
  assert.equal(record.headers['content-type'], 'application/x-protobuf');
  assert.equal(record.headers['event-id'], record.event.eventId);
  assert.equal(record.event.type, 'InvitationSent');
  assert.equal(record.event.schemaVersion, 1);
  assert.equal(record.event.cloud, 'CLOUD_GLOBAL');
  assert.equal(record.event.partnerId, partner);
  assert.equal(record.event.aggregateId, invitationId);
  assert.equal(record.event.invitationSent.invitationId, invitationId);
  assert.equal(record.event.invitationSent.customerHint.emailDomain, 'contoso.example');
}

test('events tail --json prints a new event as one JSON line, live and from the beginning', async () => {
  const partner = `partner-tail-${system.run}`;
  const tail = spawn(system.pcctlPath(), tailArgs(), { stdio: ['ignore', 'pipe', 'pipe'], env: system.kafkaEnv('pcctl') });
  let stderr = '';
  try {
    // The start offsets are fixed once this line is printed: nothing after it can be missed.
    await firstLine(tail.stderr, (line) => { stderr += `${line}\n`; return line.includes('tailing'); });
    assert.match(stderr, new RegExp(`pcctl: tailing ${topic.replaceAll('.', '\\.')} from its current end`));

    const created = system.pcctl(['invite', `--as=${partner}`, '--name=Fabrikam', '--domain=contoso.example']);
    const id = created.invitation.id;
    assert.ok(id);
    const line = await firstLine(tail.stdout, (l) => JSON.parse(l).key === id);
    assertInvitationSent(line, id, partner);

    // From the beginning (a fresh group that never commits): the same event is in the history.
    const replay = spawn(system.pcctlPath(), tailArgs('--from_beginning'),
      { stdio: ['ignore', 'pipe', 'inherit'], env: system.kafkaEnv('pcctl') });
    try {
      assertInvitationSent(await firstLine(replay.stdout, (l) => JSON.parse(l).key === id), id, partner);
    } finally {
      replay.kill('SIGTERM');
    }
  } finally {
    tail.kill('SIGTERM');
  }
});
