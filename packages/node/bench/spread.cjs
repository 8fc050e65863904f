// The spread the benchmarks report: median, interquartile range and min-max of their ratios; the
// benchmarks' processes (CommonJS) and their parents (ES modules) share it.
'use strict';

/** The q-quantile of sorted numbers, interpolated. */
const quantile = (sorted, q) => {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (i - lo);
};

function spread(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), q1: quantile(s, 0.25), q3: quantile(s, 0.75), min: s[0], max: s.at(-1) };
}

/** `median (IQR q1-q3, min-max)`, with `digits` decimals. */
function cell(xs, digits = 2) {
  const s = spread(xs);
  const f = (x) => x.toFixed(digits);
  return `${f(s.median)} (IQR ${f(s.q1)}-${f(s.q3)}, ${f(s.min)}-${f(s.max)})`;
}

/** The median of numbers, interpolated. */
const median = (xs) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

/**
 * Orders of `n` modes taking turns (a Williams square): over the rows, each mode comes right after
 * each other mode exactly once, so none always pays for the garbage of the same predecessor. One
 * square does that only for an even number of modes.
 */
function balancedOrders(n) {
  if (n % 2 !== 0) throw new RangeError('a single balanced square needs an even number of modes');
  const first = [0];
  for (let k = 1; first.length < n; k++) {
    first.push(k);
    if (first.length < n) first.push(n - k);
  }
  return Array.from({ length: n }, (_, row) => first.map((m) => (m + row) % n));
}

module.exports = { quantile, spread, cell, median, balancedOrders };
