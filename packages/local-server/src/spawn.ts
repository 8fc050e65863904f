import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Starts the CLI server in a child process (so its decoding does not share the
 * caller's event loop, as in benchmarks) and resolves with its URL once it listens.
 * The child is killed when the caller exits.
 */
export function spawnLocalServer(args: string[] = []): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [join(__dirname, 'cli.js'), '--port', '0', '--quiet', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => child.kill('SIGKILL');
  process.once('exit', stop);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve({ url: match[1] as string, stop });
    });
    child.on('exit', (code) => reject(new Error(`mixpanel-local-server exited (${code}): ${out}`)));
  });
}
