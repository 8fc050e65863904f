// What a user installs: each package's tarball, as `pnpm pack` makes it, carries its licence, its
// bins, and the sources its source maps point at.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((name) =>
  existsSync(join(ROOT, 'packages', name, 'package.json')),
);
const work = mkdtempSync(join(tmpdir(), 'om-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Packs a package and unpacks its tarball; returns the unpacked folder and its file list. */
function pack(name: string): { dir: string; files: string[] } {
  const out = join(work, name);
  execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: join(ROOT, 'packages', name), stdio: 'pipe' });
  const tarball = readdirSync(out).find((file) => file.endsWith('.tgz')) as string;
  execFileSync('tar', ['-xzf', tarball], { cwd: out });
  const files = execFileSync('tar', ['-tzf', tarball], { cwd: out, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((file) => file.replace(/^package\//, ''));
  return { dir: join(out, 'package'), files };
}

describe.each(PACKAGES)('the %s tarball', (name) => {
  const { dir, files } = pack(name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

  it('carries the Apache-2.0 licence and a README', () => {
    expect(manifest.license).toBe('Apache-2.0');
    expect(files).toContain('LICENSE');
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toContain('Apache License');
    expect(files).toContain('README.md');
  });

  it('has every source its source maps name', () => {
    const maps = files.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(dir, map), 'utf8'));
      for (const source of sources as string[]) {
        const file = resolve(dirname(join(dir, map)), sourceRoot, source);
        if (!file.startsWith(dir) || !existsSync(file)) missing.push(`${map} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has its bins and its exports', () => {
    for (const bin of Object.values<string>(manifest.bin ?? {})) expect(files).toContain(bin.replace(/^\.\//, ''));
    for (const target of leaves(manifest.exports)) expect(files).toContain(target.replace(/^\.\//, ''));
  });
});

/** The file paths an `exports` map points at. */
function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(leaves);
}
