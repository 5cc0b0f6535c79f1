// SSE fan-out against a running `make run`: opens N Customers-page streams as one partner,
// makes one change (pcctl invite), reports the portal's threads and RSS with N streams open and
// how long the change took to reach all N.   node services/portal/bench/sse_fanout.mjs 1000
import http from 'node:http';
import { execFileSync } from 'node:child_process';
const N = Number(process.argv[2] || 1000);
const base = 'http://127.0.0.1:8080';
const root = new URL('../../..', import.meta.url).pathname;
const pcctl = root + 'build/tools/pcctl/pcctl';
const env = { ...process.env, PC_JWT_KEYS_DIR: root + '.local/jwt' };
const tenant = 'fan-' + Date.now();
const token = execFileSync(pcctl, ['token', `--tenant=${tenant}`, '--role=partner_admin'], { env, encoding: 'utf8' }).trim();
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
let got = 0, t0 = 0; const lat = [];
const done = new Promise((resolve) => {
  for (let i = 0; i < N; i++) {
    const req = http.get(`${base}/customers/events?after=0`, { agent, headers: { Cookie: `pc_session=${token}` } }, (res) => {
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        if (buf.includes('event: change')) { buf = ''; got++; lat.push(Date.now() - t0); if (got === N) resolve(); }
      });
    });
    req.on('error', (e) => { console.error('conn error', e.message); });
  }
});
await new Promise((r) => setTimeout(r, 3000));
const pid = execFileSync('pgrep', ['-f', 'pc-portal'], { encoding: 'utf8' }).trim().split('\n')[0];
const status = execFileSync('grep', ['-E', 'Threads|VmRSS', `/proc/${pid}/status`], { encoding: 'utf8' });
const metrics = execFileSync('curl', ['-s', 'http://127.0.0.1:51080/metrics'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('pc_portal')).join(' | ');
console.log(`${N} SSE clients open:`, status.replace(/\s+/g, ' '), metrics);
t0 = Date.now();
execFileSync(pcctl, ['invite', `--as=${tenant}`, '--domain=fanout.example', '--admin'], { env });
await done;
lat.sort((a, b) => a - b);
console.log(`all ${N} got the change: p50 ${lat[Math.floor(N / 2)]} ms, max ${lat[N - 1]} ms (includes create → outbox → Kafka → notification → portal)`);
process.exit(0);
