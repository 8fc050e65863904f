import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';

/** A `redis-server` started for one test file, on a free loopback port, with no persistence. */
export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Where `redis-server` is: `REDIS_SERVER` or the PATH (Debian's `redis-server` package; `.ci/run` installs it). */
const REDIS_BIN = process.env.REDIS_SERVER ?? 'redis-server';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves once the server answers PING with PONG, or rejects after `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const pong = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let reply = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        reply += chunk.toString('latin1');
        if (reply.includes('\r\n')) socket.end();
      });
      socket.on('close', () => resolve(reply.startsWith('+PONG')));
      socket.on('error', () => resolve(false));
    });
    if (pong) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a real `redis-server` on 127.0.0.1 (a free port, no RDB or AOF files) and waits until it
 * answers PING. Call `stop()` in `afterAll`.
 */
export async function startRedis(): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_BIN,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const spawnError = once(child, 'error').then(([e]) => {
      throw e;
    });
    spawnError.catch(() => {});
    try {
      await Promise.race([waitForPong(port, 5000, child), spawnError]);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      continue; // the port may have been taken between probing and binding
    }
    let stopped: Promise<void> | undefined;
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      stop() {
        stopped ??= (async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(timer);
        })();
        return stopped;
      },
    };
  }
  throw new Error(`could not start redis-server (${REDIS_BIN}): ${String(lastError)}`);
}
