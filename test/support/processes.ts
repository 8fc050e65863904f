import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A child process whose stdout is read line by line. */
export interface LineProcess {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the next stdout line (rejects if the process exits first or after `timeoutMs`). */
  nextLine(timeoutMs?: number): Promise<string>;
  stderr(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves with the exit code. Idempotent. */
  stop(): Promise<number | null>;
}

/** Spawns `node <args>` with piped stdio and a line reader on stdout. */
export function spawnNode(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): LineProcess {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c) => {
    err += c;
  });
  const queue: string[] = [];
  const waiters: Array<(line: string | undefined) => void> = [];
  let ended = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  child.on('close', () => {
    ended = true;
    for (const w of waiters.splice(0)) w(undefined);
  });
  let stopped: Promise<number | null> | undefined;
  return {
    child,
    stderr: () => err,
    nextLine(timeoutMs = 15_000) {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (ended) return Promise.reject(new Error(`process ended; stderr: ${err}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no stdout line within ${timeoutMs} ms; stderr: ${err}`)),
          timeoutMs,
        );
        waiters.push((line) => {
          clearTimeout(timer);
          if (line === undefined) reject(new Error(`process ended; stderr: ${err}`));
          else resolve(line);
        });
      });
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        const [code] = await exited;
        clearTimeout(timer);
        return code as number | null;
      })();
      return stopped;
    },
  };
}
