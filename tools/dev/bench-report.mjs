#!/usr/bin/env node
// The `make bench` report: reads the figures the benchmark binaries appended to a JSON-lines
// file (pc/testing/bench_report.h) and writes, next to it,
//   report.json  every figure plus when, where and on what commit it was measured;
//   report.md    the same as a Markdown table (what docs/benchmarks.md shows);
//   report.svg   a chart: each ratio on a log scale, its min–max range and its goal;
// and prints the table. Node only (no plotting package): the chart is plain SVG.
//
//   node tools/dev/bench-report.mjs build/bench/figures.jsonl
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

const input = process.argv[2];
if (!input) {
  console.error('usage: bench-report.mjs <figures.jsonl>');
  process.exit(2);
}
const out = dirname(input);
const figures = readFileSync(input, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      throw new Error(`${input}:${i + 1}: not JSON: ${e.message}`);
    }
  });

const fmt = (x) => {
  if (x === undefined || x === null) return '—';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US').replace(/,/g, ' ');
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.1) return x.toFixed(2);
  return x.toFixed(3);
};
const verdict = (f) => (f.met === undefined ? '' : f.met ? 'met' : 'NOT met');
const ratioCell = (f) =>
  f.ratio === undefined ? '—' : `${fmt(f.ratio)} (${fmt(f.ratio_min)}–${fmt(f.ratio_max)}, n=${f.samples})`;

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not a checkout: the report says so
}
const meta = {
  generated_at: new Date().toISOString(),
  commit,
  host: { cpus: os.cpus().length, load_average: os.loadavg().map((x) => +x.toFixed(2)) },
};
writeFileSync(join(out, 'report.json'), JSON.stringify({ ...meta, figures }, null, 2) + '\n');

// ---- table (stdout and Markdown) --------------------------------------------------------------
const header = ['figure', 'what', 'value', 'baseline', 'unit', 'ratio (min–max, pairs)', 'goal', ''];
const rows = figures.map((f) => [
  f.id, f.title, fmt(f.value), fmt(f.baseline), f.unit, ratioCell(f), f.goal || '—', verdict(f),
]);
const md = [
  `Measured ${meta.generated_at} on commit ${commit}, ${meta.host.cpus} CPUs, load ${meta.host.load_average.join(' / ')}.`,
  '',
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`),
  '',
].join('\n');
writeFileSync(join(out, 'report.md'), md);
const widths = header.map((h, i) => Math.min(i === 1 ? 60 : 40, Math.max(h.length, ...rows.map((r) => String(r[i]).length))));
const line = (r) => r.map((c, i) => String(c).slice(0, widths[i]).padEnd(widths[i])).join('  ');
console.log(line(header));
for (const r of rows) console.log(line(r));
const missed = figures.filter((f) => f.met === false).map((f) => f.id);
console.log(`\n${figures.length} figures; goals missed: ${missed.length ? missed.join(', ') : 'none'}`);

// ---- chart -------------------------------------------------------------------------------------
// One row per figure with a ratio: a bar from 1 to the ratio on a log scale (so 0.02 and 40
// are both readable), a whisker for min–max, a tick for the goal; green met, red not met.
const charted = figures.filter((f) => f.ratio !== undefined);
const lo = Math.min(0.01, ...charted.map((f) => f.ratio_min)) ;
const hi = Math.max(10, ...charted.map((f) => f.ratio_max));
const [llo, lhi] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
const W = 980, left = 190, right = 30, rowH = 22, top = 40;
const H = top + charted.length * rowH + 40;
const x = (v) => left + ((Math.log10(v) - llo) / (lhi - llo)) * (W - left - right);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="100%" height="100%" fill="white"/>`,
  `<text x="${left}" y="18" font-size="14">make bench: each figure ÷ its baseline from the same run (log scale; tick = goal; whisker = min–max)</text>`,
];
for (let p = llo; p <= lhi; ++p) {
  const v = 10 ** p;
  svg.push(`<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${H - 30}" stroke="${p === 0 ? '#444' : '#ddd'}"/>`);
  svg.push(`<text x="${x(v)}" y="${H - 14}" text-anchor="middle">${v >= 1 ? v : v.toPrecision(1)}×</text>`);
}
charted.forEach((f, i) => {
  const y = top + i * rowH;
  const color = f.met === undefined ? '#888' : f.met ? '#2a9d4b' : '#d43c3c';
  const [a, b] = [x(Math.min(1, f.ratio)), x(Math.max(1, f.ratio))];
  svg.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end"><title>${esc(f.title)}</title>${esc(f.id)}</text>`);
  svg.push(`<rect x="${a}" y="${y + 4}" width="${Math.max(1, b - a)}" height="${rowH - 8}" fill="${color}" opacity="0.8"><title>${esc(`${f.title}: ${fmt(f.ratio)}`)}</title></rect>`);
  svg.push(`<line x1="${x(f.ratio_min)}" y1="${y + rowH / 2}" x2="${x(f.ratio_max)}" y2="${y + rowH / 2}" stroke="black"/>`);
  const goal = /^(>=|<=)([0-9.]+)$/.exec(f.goal || '');
  if (goal) {
    const gx = x(parseFloat(goal[2]));
    svg.push(`<line x1="${gx}" y1="${y + 1}" x2="${gx}" y2="${y + rowH - 1}" stroke="black" stroke-width="3"/>`);
  }
  svg.push(`<text x="${b + 4}" y="${y + 15}">${fmt(f.ratio)}</text>`);
});
svg.push('</svg>', '');
writeFileSync(join(out, 'report.svg'), svg.join('\n'));
console.log(`report: ${join(out, 'report.json')}, report.md, report.svg`);
