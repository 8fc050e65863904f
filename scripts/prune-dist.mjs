// Removes build output whose source is gone (tsc -b never deletes it), so a renamed or split module
// leaves nothing stale in dist/ for tests to load or `pnpm pack` to ship. Output is recognised by its
// source map: a map whose sources no longer exist goes, with the file it maps.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');

function* maps(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* maps(path);
    else if (entry.name.endsWith('.map')) yield path;
  }
}

let pruned = 0;
for (const name of readdirSync(packages)) {
  const dist = join(packages, name, 'dist');
  if (!existsSync(dist)) continue;
  for (const map of maps(dist)) {
    let sources;
    try {
      const parsed = JSON.parse(readFileSync(map, 'utf8'));
      sources = (parsed.sources ?? []).map((source) => resolve(dirname(map), parsed.sourceRoot ?? '', source));
    } catch {
      continue;
    }
    if (sources.length === 0 || sources.some((source) => existsSync(source))) continue;
    rmSync(map);
    rmSync(map.slice(0, -'.map'.length), { force: true });
    pruned++;
  }
}
if (pruned > 0) console.log(`prune-dist: removed ${pruned} stale output file(s) and their maps`);
