import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExporterStats } from '../src/index.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/flush-against-silent-server.mjs', import.meta.url));

/** A server on 127.0.0.1 that accepts every connection, reads what comes, and never answers. */
async function silentServer() {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.resume();
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Connections accepted so far. */
    accepted: () => accepted,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs the fixture under --expose-gc with this Node (20 on CI, and 22); resolves with its output and exit code. */
function runChild(url: string, via: 'fetch' | 'client') {
  const env = { ...process.env };
  delete env.HTTP_PROXY;
  delete env.HTTPS_PROXY;
  const child = spawn(process.execPath, ['--expose-gc', FIXTURE, url, via], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe.each(['fetch', 'client'] as const)('request timeouts under forced GC (%s transport)', (via) => {
  it('a server that never answers times every request out, and flush() resolves', async () => {
    const server = await silentServer();
    cleanups.push(() => server.close());
    const run = runChild(server.url, via);
    cleanups.push(() => {
      run.child.kill('SIGKILL');
    });
    // A lost timeout leaves flush() pending forever: give it far more than 2 attempts x 200 ms.
    let watchdog: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      run.exited,
      new Promise<'hung'>((resolve) => {
        watchdog = setTimeout(() => resolve('hung'), 15_000);
      }),
    ]);
    clearTimeout(watchdog);
    const { stdout, stderr } = run.output();
    expect(code, `flush() never resolved; stderr: ${stderr}`).toBe(0);
    const stats = JSON.parse(stdout) as ExporterStats;
    // The requests reached the server, which never answered nor closed: only timeouts end them.
    expect(server.accepted()).toBeGreaterThan(0);
    // Every record was tried twice, timed out each time, then given up on and counted.
    expect(stats.dropped.retries_exhausted).toBe(40);
    expect(stats.retried).toBe(40);
    expect(stats.pending).toBe(0);
  });
});
