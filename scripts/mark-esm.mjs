// Marks the ESM output of dual packages as modules, so Node and bundlers read
// dist/esm/*.js as ESM while the package itself stays CommonJS by default.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

for (const pkg of ['core']) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', pkg, 'dist', 'esm');
  if (existsSync(dir)) writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
}
