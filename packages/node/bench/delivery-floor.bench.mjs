// The CPU a first exposure's delivery costs before any of this project's code runs: its two records,
// already serialized as the exporter queues them, posted in batches of 2000 (one /track, one /engage
// request) to the local Mixpanel-compatible server, through node:http with a kept-alive connection
// as the exporter's transport does, and through the platform's fetch for comparison. Reported per exposure (two records), median
// and min-max of the rounds, in CPU time of this process (the server runs in a process of its own).
//   node bench/delivery-floor.bench.mjs        (BENCH_ROUNDS, default 15)
import { Agent, request } from 'node:http';
import { spawnLocalServer } from '@optimizely-mixpanel/local-server';

const ROUNDS = Number(process.env.BENCH_ROUNDS) || 15;
const TOKEN = JSON.stringify('bench-token');
const { url, stop } = await spawnLocalServer();

const event = (i) =>
  `{"event":"Experiment Viewed","properties":{"distinct_id":"user-${i}","time":1795639620000,"$insert_id":"${i
    .toString(16)
    .padStart(
      32,
      '0',
    )}","flag_key":"checkout_redesign","variation_key":"variation_a","rule_key":"checkout_redesign_ab","enabled":true,"experiment_id":"exp_40000000001","variation_id":"var_70000000002","token":${TOKEN}}}`;
const profile = (i) =>
  `{"$token":${TOKEN},"$distinct_id":"user-${i}","$set":{"[Optimizely] checkout_redesign":"variation_a"}}`;
let next = 0;
const batch = (record) => `[${Array.from({ length: 2000 }, () => record(next++)).join(',')}]`;

const viaFetch = async (path, body) => {
  const response = await fetch(`${url}/${path}?verbose=1&ip=0`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body,
    redirect: 'manual',
  });
  await response.text();
};
const agent = new Agent({ keepAlive: true });
const viaHttp = (path, body) =>
  new Promise((resolve, reject) => {
    const req = request(
      `${url}/${path}?verbose=1&ip=0`,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const results = { 'node:http': [], fetch: [] };
try {
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [name, send] of [
      ['node:http', viaHttp],
      ['fetch', viaFetch],
    ]) {
      const events = batch(event);
      const profiles = batch(profile);
      const start = process.cpuUsage();
      await send('track', events);
      await send('engage', profiles);
      const used = process.cpuUsage(start);
      if (r >= 2) results[name].push((used.user + used.system) / 2000);
    }
  }
} finally {
  stop();
}
const describe = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)].toFixed(2)} (${s[0].toFixed(2)}-${s.at(-1).toFixed(2)})`;
};
console.log(
  `delivery floor: CPU µs per first exposure (its two records, sent in batches of 2000), Node ${process.version}`,
);
console.table(Object.entries(results).map(([transport, xs]) => ({ transport, 'µs per exposure': describe(xs) })));
