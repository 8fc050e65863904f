/**
 * What happens to queued exposures when the process ends, for every route
 * (the preload, an instrumentation the application registers, NodeSDK,
 * `instrumentClient`): a natural exit flushes them within a deadline, a
 * signal with no other handler flushes and then ends the process as the
 * signal would have, and at `exit` (after `process.exit()`, an uncaught
 * exception, or an application's signal handler that exits) whatever is still
 * pending is written to the spool synchronously, with one diag line saying
 * where it went. Exit codes, stdout and stderr are otherwise unchanged.
 */
import { diag, trace } from '@opentelemetry/api';
import type { MixpanelExporter } from '@optimizely-mixpanel/exporter';
import { PACKAGE_NAME } from './version.js';

/** What the lifecycle needs of an instrumentation. */
export interface Flushable {
  readonly exporter: MixpanelExporter | undefined;
  flush(): Promise<void>;
  shutdown(timeoutMs?: number): Promise<void>;
}

interface StartedSdk {
  shutdown(): Promise<void>;
}

interface State {
  instrumentations: Set<Flushable>;
  sdk: StartedSdk | undefined;
  installed: boolean;
  /** Records written to the spool by a shutdown this lifecycle ran past its deadline, reported at exit. */
  spooledEarlier: number;
}

// One per process, even with two copies of this package: exit listeners must not write twice.
const KEY = Symbol.for('@optimizely-mixpanel/node.lifecycle');
const holder = globalThis as { [KEY]?: State };
holder[KEY] ??= {
  instrumentations: new Set(),
  sdk: undefined,
  installed: false,
  spooledEarlier: 0,
};
const state: State = holder[KEY];

/** Shutdown and beforeExit deadline (`OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS`, default 5000). */
export function deadlineMs(): number {
  return Number(process.env.OPTIMIZELY_MIXPANEL_SHUTDOWN_TIMEOUT_MS) || 5000;
}

/** Adds an instrumentation whose exposures must survive the end of the process; installs the hooks once. */
export function track(instrumentation: Flushable): void {
  state.instrumentations.add(instrumentation);
  install();
}

/** The NodeSDK the preload started: shut down (spans flushed) with the exporters on a signal. */
export function setSdk(sdk: StartedSdk | undefined): void {
  state.sdk = sdk;
}

/** The tracked instrumentations (for the flush API and Lambda). */
export function tracked(): Flushable[] {
  return [...state.instrumentations];
}

function exporters(): MixpanelExporter[] {
  const out = new Set<MixpanelExporter>();
  for (const instrumentation of state.instrumentations) {
    const exporter = instrumentation.exporter;
    if (exporter) out.add(exporter);
  }
  return [...out];
}

/** Flushes the registered tracer provider: ours, or the one the application registered. */
export function flushSpans(): Promise<void> {
  try {
    const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
    const provider = (global.getDelegate?.() ?? global) as { forceFlush?: () => Promise<void> };
    return (provider.forceFlush?.() ?? Promise.resolve()).catch(() => undefined);
  } catch {
    return Promise.resolve();
  }
}

/** Resolves when `work` settles or after `ms`, whichever is first; true when `work` finished. */
export function withDeadline(work: Promise<unknown>, ms: number, keepAlive = true): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, ms));
      if (!keepAlive) timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Flushes every tracked instrumentation's exposures, then spans. Never rejects. */
export async function flushAll(): Promise<void> {
  const all = tracked();
  if (all.length === 0) return;
  await Promise.all(all.map((i) => i.flush().catch(() => undefined)));
  await flushSpans();
}

/** Shuts every tracked instrumentation down within `timeoutMs`: what is left is spooled (or dropped and counted). */
export async function shutdownAll(timeoutMs: number = deadlineMs()): Promise<void> {
  const all = tracked();
  if (all.length === 0) return;
  const before = spooledSoFar();
  await Promise.all(all.map((i) => i.shutdown(timeoutMs).catch(() => undefined)));
  state.spooledEarlier += spooledSoFar() - before;
  await flushSpans();
}

function spooledSoFar(): number {
  return exporters().reduce((n, e) => n + e.stats().spooled, 0);
}

/**
 * Writes every pending record of every tracked exporter to its spool,
 * synchronously. Returns what was written and what could not be.
 */
export function persistAllSync(): { spooled: number; lost: Record<string, number>; dir: string | undefined } {
  let spooled = 0;
  const lost: Record<string, number> = {};
  let dir: string | undefined;
  for (const exporter of exporters()) {
    try {
      const result = exporter.persistSync();
      spooled += result.spooled;
      dir ??= result.dir;
      for (const [reason, n] of Object.entries(result.dropped)) if (n) lost[reason] = (lost[reason] ?? 0) + n;
    } catch {
      // persistSync never throws; an exit listener must not either.
    }
  }
  return { spooled, lost, dir };
}

function install(): void {
  if (state.installed) return;
  state.installed = true;

  // beforeExit: the loop is empty, but queued exposures and buffered spans are not sent yet.
  let flushedAt = -1;
  let flushing = false;
  process.on('beforeExit', () => {
    const queued = exporters().reduce((n, e) => n + e.stats().queued + e.stats().replayed, 0);
    if (flushing || queued === flushedAt) return;
    flushing = true;
    flushedAt = queued;
    const ms = deadlineMs();
    withDeadline(flushAll(), ms)
      .then(async (done) => {
        const pending = exporters().reduce((n, e) => n + e.stats().pending, 0);
        // Past the deadline: what is left goes to the spool (reported at exit) so the process can end.
        if (!done || pending > 0) await shutdownAll(0);
      })
      .finally(() => {
        flushing = false;
      });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Another handler owns the exit; otherwise re-raise so the process ends as it would have.
      const othersHandle = process.listenerCount(signal) > 0;
      const ms = deadlineMs();
      withDeadline(
        shutdownAll(ms).then(() => state.sdk?.shutdown()),
        ms + 500,
      ).finally(() => {
        if (othersHandle) return;
        // A process the signal ends runs no 'exit' listener: the report is made here.
        persistAndReport();
        process.kill(process.pid, signal);
      });
    });
  }

  // Only synchronous work runs here: process.exit(), an uncaught exception, a handler that exits.
  process.on('exit', persistAndReport);
}

/** Spools what is still pending and says what went to the spool (or was lost) since the last report. */
function persistAndReport(): void {
  try {
    const { spooled, lost, dir } = persistAllSync();
    const total = spooled + state.spooledEarlier;
    state.spooledEarlier = 0;
    reportExit(total, lost, dir ?? exporters()[0]?.spoolDir);
  } catch {
    // Never change how the process ends.
  }
}

function reportExit(spooled: number, lost: Record<string, number>, dir: string | undefined): void {
  const lostTotal = Object.values(lost).reduce((a, b) => a + b, 0);
  if (spooled === 0 && lostTotal === 0) return;
  const parts: string[] = [];
  if (spooled > 0) parts.push(`${spooled} written to the spool ${dir} (sent by the next run for this project)`);
  if (lostTotal > 0) {
    const reasons = Object.entries(lost)
      .map(([reason, n]) => `${reason}: ${n}`)
      .join(', ');
    parts.push(`${lostTotal} lost (${reasons})`);
  }
  diag.warn(`${PACKAGE_NAME}: ${spooled + lostTotal} Mixpanel record(s) undelivered at exit: ${parts.join('; ')}`);
}
