// grpcurl as people use it, against every real service process (the three services and the
// portal's gRPC health port, started by tests/browser/harness.mjs on the `kafka` fixture's
// broker): `list`, `describe` and grpc.health.v1.Health/Check, all through server reflection
// and without a token, over mTLS as in `make run` (-cacert/-cert/-key; a plaintext grpcurl is
// refused). grpcurl is the version tests/contracts/go.mod pins (PC_GRPCURL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { System, requiredEnv } from '../browser/harness.mjs';

const grpcurlBin = requiredEnv('PC_GRPCURL');
const system = new System();
before(async () => { await system.start({ browser: false }); });
after(async () => { await system.stop(); });

function grpcurl(name, ...args) {
  const address = `127.0.0.1:${system.ports[name].grpc}`;
  const flags = args[0] === '-d' ? args.splice(0, 2) : [];
  const tls = ['-cacert', `${system.tls}/ca.pem`, '-cert', `${system.tls}/pcctl.pem`,
    '-key', `${system.tls}/pcctl.key`];
  return execFileSync(grpcurlBin, [...tls, '-max-time', '30', ...flags, address, ...args],
    { encoding: 'utf8' });
}

test('a plaintext grpcurl is refused by every TLS server', () => {
  for (const name of Object.keys(system.ports)) {
    assert.throws(() => execFileSync(grpcurlBin, ['-plaintext', '-max-time', '10',
      `127.0.0.1:${system.ports[name].grpc}`, 'list'], { stdio: 'pipe' }), name);
  }
});

// What each process serves besides health and reflection (the portal: only health).
const own = {
  invitation: ['partnercenter.invitation.v1.InvitationService', 'CreateInvitation'],
  relationship: ['partnercenter.relationship.v1.RelationshipService', 'CheckAdminAccess'],
  notification: ['partnercenter.notification.v1.NotificationService', 'WatchCustomers'],
  portal: null,
};
const infrastructure = ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection'];

for (const [name, service] of Object.entries(own)) {
  test(`${name}: grpcurl list names every service`, () => {
    const listed = grpcurl(name, 'list').trim().split('\n').sort();
    assert.deepEqual(listed, [...(service ? [service[0]] : []), ...infrastructure].sort());
  });

  test(`${name}: grpcurl describe grpc.health.v1.Health`, () => {
    const out = grpcurl(name, 'describe', 'grpc.health.v1.Health');
    assert.match(out, /^grpc\.health\.v1\.Health is a service:/);
    assert.match(out, /rpc Check \( \.grpc\.health\.v1\.HealthCheckRequest \) returns \( \.grpc\.health\.v1\.HealthCheckResponse \);/);
    assert.match(out, /rpc Watch \( \.grpc\.health\.v1\.HealthCheckRequest \) returns \( stream \.grpc\.health\.v1\.HealthCheckResponse \);/);
  });

  test(`${name}: grpc.reflection.v1 answers itself (not only v1alpha)`, () => {
    // grpcurl falls back to v1alpha silently; calling the v1 method directly proves v1 is served.
    const out = grpcurl(name, '-d', '{"list_services": ""}',
      'grpc.reflection.v1.ServerReflection/ServerReflectionInfo');
    const answer = JSON.parse(out);  // grpcurl prints proto field names
    assert.ok(answer.list_services_response, out);
    const names = answer.list_services_response.service.map((s) => s.name).sort();
    assert.deepEqual(names, [...(service ? [service[0]] : []), ...infrastructure].sort());
  });

  test(`${name}: grpcurl Health/Check is SERVING`, () => {
    assert.deepEqual(JSON.parse(grpcurl(name, 'grpc.health.v1.Health/Check')), { status: 'SERVING' });
    if (service) {
      const out = grpcurl(name, '-d', JSON.stringify({ service: service[0] }), 'grpc.health.v1.Health/Check');
      assert.deepEqual(JSON.parse(out), { status: 'SERVING' });
    }
  });

  if (service) {
    test(`${name}: grpcurl describe ${service[0]}`, () => {
      const out = grpcurl(name, 'describe', service[0]);
      assert.match(out, new RegExp(`^${service[0].replaceAll('.', '\\.')} is a service:`));
      assert.match(out, new RegExp(`rpc ${service[1]} \\(`));
      // And a message type of the API, with its imports resolved.
      const request = grpcurl(name, 'describe', `${service[0].replace(/\.[A-Za-z]+$/, '')}.${service[1]}Request`);
      assert.match(request, /is a message:/);
    });
  }
}
