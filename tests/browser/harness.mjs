// The system the browser tests drive: the three services and the portal as real processes
// on free loopback ports, on SQLite in a temp dir, against the real Kafka broker of the
// `kafka` CTest fixture; and Debian's chromium through playwright-core (unless started with
// { browser: false }, as tests/contracts does). Every missing piece fails the test (nothing
// is skipped).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

export function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through ctest (ctest -L browser)`);
  return v;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Polls `url` until it answers 200: readiness of a process we started, bounded.
async function waitReady(url, proc, name, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${name} exited (${proc.exitCode}); log:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} not ready at ${url}; log:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
}

export class System {
  constructor() {
    this.brokers = requiredEnv('PC_TEST_KAFKA_BROKERS');
    this.kafkaCerts = requiredEnv('PC_TEST_KAFKA_CERTS_DIR');
    this.bin = requiredEnv('PC_BINARY_DIR');
    this.src = requiredEnv('PC_SOURCE_DIR');
    this.infra = requiredEnv('PC_TEST_INFRA_DIR');
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-browser-'));
    this.run = crypto.randomBytes(4).toString('hex');  // unique tenants and consumer groups
    this.procs = {};
    this.artifacts = path.join(this.bin, 'test-artifacts', 'browser');
    fs.mkdirSync(this.artifacts, { recursive: true });
  }

  async start({ browser = true } = {}) {
    execFileSync(path.join(this.src, 'deploy/local/kafka/kafka.sh'), ['create-topics', 'global'], {
      env: { ...process.env, PC_KAFKA_DIR: path.join(this.infra, 'kafka'),
             PC_KAFKA_PORT: this.brokers.split(':').pop() },
      stdio: 'pipe',
    });
    this.keys = path.join(this.dir, 'jwt');
    execFileSync(this.pcctlPath(), ['dev-keys', `--jwt_keys_dir=${this.keys}`], { stdio: 'pipe' });
    this.ports = {};
    for (const name of ['invitation', 'relationship', 'notification', 'portal']) {
      this.ports[name] = { grpc: await freePort(), admin: await freePort() };
    }
    this.portalPort = await freePort();
    this.baseURL = `http://127.0.0.1:${this.portalPort}`;
    const addr = (n) => `127.0.0.1:${this.ports[n].grpc}`;
    // gRPC over mTLS between every pair, as in `make run`.
    this.tls = path.join(this.dir, 'grpc-tls');
    execFileSync('bash', [path.join(this.src, 'tools/dev/grpc-certs.sh'), this.tls,
      'invitation', 'relationship', 'notification', 'portal', 'pcctl'], { stdio: 'pipe' });
    const tls = (n) => [`--grpc_tls_cert_file=${this.tls}/${n}.pem`, `--grpc_tls_key_file=${this.tls}/${n}.key`,
      `--grpc_tls_client_ca_file=${this.tls}/ca.pem`, `--grpc_tls_ca_file=${this.tls}/ca.pem`];
    this.serviceToken = path.join(this.dir, 'invitation.token');
    fs.writeFileSync(this.serviceToken, execFileSync(this.pcctlPath(), ['token', '--tenant=partnercenter',
      '--role=service', '--subject=invitation', `--jwt_keys_dir=${this.keys}`], { encoding: 'utf8' }),
    { mode: 0o600 });
    // One replica each: nothing to drain on SIGTERM (--drain_delay is for load balancers).
    const common = [`--kafka_brokers=${this.brokers}`, `--jwt_keys_dir=${this.keys}`, '--log_format=text',
      '--drain_delay=0s'];
    this.args = {
      invitation: [...common, ...tls('invitation'), `--service_token_file=${this.serviceToken}`,
        `--database_url=sqlite://${this.dir}/invitation.db`,
        `--portal_base_url=${this.baseURL}`, `--relationship_address=${addr('relationship')}`],
      relationship: [...common, ...tls('relationship'), `--database_url=sqlite://${this.dir}/relationship.db`,
        `--invitation_address=${addr('invitation')}`, `--consumer_group=relationship-browser-${this.run}`],
      notification: [...common, ...tls('notification'), `--database_url=sqlite://${this.dir}/notification.db`,
        `--consumer_group=notification-browser-${this.run}`, '--watch_poll_interval=50ms'],
      portal: [...tls('portal'), `--jwt_keys_dir=${this.keys}`, '--log_format=text', '--drain_delay=0s',
        '--dev_sign_in', '--insecure_cookies',
        `--http_port=${this.portalPort}`, `--invitation_address=${addr('invitation')}`,
        `--relationship_address=${addr('relationship')}`, `--notification_address=${addr('notification')}`],
    };
    await Promise.all(['invitation', 'relationship', 'notification'].map((n) => this.startProcess(n)));
    await this.startProcess('portal');
    if (!browser) return;
    const { chromium } = await import('playwright-core');
    this.browser = await chromium.launch({
      executablePath: process.env.PC_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }

  pcctlPath() { return path.join(this.bin, 'tools/pcctl/pcctl'); }

  // The broker is secured: each process talks to Kafka as its own principal (its certificate;
  // the ACLs of deploy/local/kafka/kafka.sh decide what it may do).
  kafkaEnv(principal) {
    return {
      ...process.env,
      PC_KAFKA_SECURITY_PROTOCOL: 'SSL',
      PC_KAFKA_CA_FILE: path.join(this.kafkaCerts, 'ca.crt'),
      PC_KAFKA_CERT_FILE: path.join(this.kafkaCerts, `${principal}.crt`),
      PC_KAFKA_KEY_FILE: path.join(this.kafkaCerts, `${principal}.key`),
    };
  }

  async startProcess(name) {
    const p = this.ports[name];
    const log = path.join(this.dir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    const proc = spawn(path.join(this.bin, 'services', name, `pc-${name}`),
      [...this.args[name], `--grpc_port=${p.grpc}`, `--admin_port=${p.admin}`],
      { stdio: ['ignore', out, out], env: name === 'portal' ? process.env : this.kafkaEnv(name) });
    this.procs[name] = proc;
    await waitReady(`http://127.0.0.1:${p.admin}/readyz`, proc, name, log);
  }

  async stopProcess(name) {
    const proc = this.procs[name];
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }

  log(name) { return fs.readFileSync(path.join(this.dir, `${name}.log`), 'utf8'); }

  // pcctl as a tenant (dev token), against this system's services; returns parsed JSON.
  pcctl(args) {
    const out = execFileSync(this.pcctlPath(), [...args,
      `--jwt_keys_dir=${this.keys}`,
      `--grpc_tls_ca_file=${this.tls}/ca.pem`, `--grpc_tls_cert_file=${this.tls}/pcctl.pem`,
      `--grpc_tls_key_file=${this.tls}/pcctl.key`,
      `--invitation_addr=127.0.0.1:${this.ports.invitation.grpc}`,
      `--relationship_addr=127.0.0.1:${this.ports.relationship.grpc}`,
      `--notification_addr=127.0.0.1:${this.ports.notification.grpc}`], { encoding: 'utf8' });
    return out.trim() ? JSON.parse(out) : {};
  }

  async newContext() {
    const ctx = await this.browser.newContext({ baseURL: this.baseURL });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.baseURL });
    return ctx;
  }

  async stop() {
    if (this.browser) await this.browser.close();
    for (const name of ['portal', 'notification', 'relationship', 'invitation']) await this.stopProcess(name);
  }
}

// Dev sign-in through the form, as a person would.
// `verifiedDomains`: what the (dev) identity provider says the tenant has verified.
export async function signIn(page, tenant, role, name, verifiedDomains = '') {
  if (!page.url().includes('/signin')) await page.goto('/signin');
  await page.fill('input[name=tenant]', tenant);
  await page.fill('input[name=name]', name);
  if (verifiedDomains) await page.fill('input[name=verified_domains]', verifiedDomains);
  await page.selectOption('select[name=role]', role);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/signin"] button[type=submit]')]);
}
