'use strict';
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const sdk = require('optimizely-sdk-v6');
const datafile = readFileSync(join(__dirname, '../../../test/fixtures/datafile.json'), 'utf8');
const client = sdk.createInstance({ projectConfigManager: sdk.createStaticProjectConfigManager({ datafile }) });
let next = 0;
function threads() {
  const out = {};
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = comm + ':' + tid;
      out[key] = (out[key] ?? 0) + Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return out;
}
async function main() {
  const rounds = Number(process.argv[2]) || 40;
  for (let w = 0; w < 5; w++) {
    for (let i = 0; i < 2000; i++) client.createUserContext(`w-${next++}`).decide('checkout_redesign');
    await new Promise((r) => setTimeout(r, 30));
  }
  const before = threads();
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const users = Array.from({ length: 2000 }, () => client.createUserContext(`new-${next++}`));
    for (const u of users) u.decide('checkout_redesign');
    await new Promise((r) => setTimeout(r, 30));
  }
  const { flush } = require('@optimizely-mixpanel/node');
  if (process.env.PRELOAD) await flush();
  const after = threads();
  const cpu = process.cpuUsage(cpu0);
  const n = rounds * 2000;
  const per = {};
  for (const k of Object.keys(after)) per[k] = (((after[k] - (before[k] ?? 0)) * 10000) / n).toFixed(2); // ticks of 10ms -> µs
  console.log(
    JSON.stringify({
      mode: process.env.PRELOAD ? 'preload' : 'none',
      usPerDecide: ((cpu.user + cpu.system) / n).toFixed(2),
      user: (cpu.user / n).toFixed(2),
      sys: (cpu.system / n).toFixed(2),
      threadsUs: per,
    }),
  );
  process.exit(0);
}
main();
