import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI_OPTIONS } from '../src/cli-options.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('mixpanel-local-server CLI', () => {
  it('prints records as they arrive and a summary table on SIGINT, never the token', async () => {
    const child = spawn(process.execPath, [CLI, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${output}`)), 10_000);
      child.stdout.on('data', () => {
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
    });
    const token = 'cli-secret-token';
    await fetch(`${url}/track`, {
      method: 'POST',
      body: JSON.stringify([
        {
          event: 'Experiment Viewed',
          properties: {
            token,
            distinct_id: 'user-1',
            flag_key: 'checkout_redesign',
            variation_key: 'variation_a',
            time: Date.now(),
          },
        },
      ]),
    });
    await fetch(`${url}/engage`, {
      method: 'POST',
      body: JSON.stringify([
        { $token: token, $distinct_id: 'user-1', $set: { '[Optimizely] checkout_redesign': 'variation_a' } },
      ]),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(output).toMatch(
      /"Experiment Viewed" distinct_id="user-1" flag_key="checkout_redesign" variation_key="variation_a"/,
    );
    expect(output).toMatch(/\$set distinct_id="user-1"/);
    expect(output).toMatch(/checkout_redesign\s+variation_a\s+1/);
    expect(output).toMatch(/\[Optimizely\] checkout_redesign\s+variation_a\s+1/);
    expect(output).not.toContain(token);
  });

  it('refuses bad arguments with usage', async () => {
    const child = spawn(process.execPath, [CLI, '--port', 'nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/invalid --port/);
  });

  it('--help lists every flag the CLI accepts', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const [name, option] of Object.entries(CLI_OPTIONS)) {
      expect(stdout).toContain(`--${name}`);
      if ('short' in option) expect(stdout).toContain(`-${option.short}, --${name}`);
    }
    // Every fault parseFault accepts is named.
    for (const fault of [
      '429',
      'retry-after=',
      'hang',
      'reset',
      'delay=MS',
      'redirect=307',
      'location=URL',
      'html',
      'empty',
    ]) {
      expect(stdout).toContain(fault);
    }
  });

  it('refuses an unknown fault with the reason', async () => {
    const { code, stderr } = await run(['--port', '0', '--fault', 'teapot']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/invalid --fault: unknown fault "teapot"/);
  });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
