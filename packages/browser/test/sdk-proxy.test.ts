// The module that stands in for an SDK copy, checked against the SDK's real files (5.x and 6.x).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultExportOf, proxySource, SDK_IMPORT } from '../src/sdk-proxy.js';

// The packages' own folders (5.x exports no ./package.json to resolve).
const modules = fileURLToPath(new URL('../node_modules/', import.meta.url));
const v5 = join(modules, 'optimizely-sdk-v5');
const v6 = join(modules, '@optimizely/optimizely-sdk');

describe('the SDK stand-in module', () => {
  it('routes the package and its subpaths that export createInstance, nothing else', () => {
    for (const id of [
      '@optimizely/optimizely-sdk',
      '@optimizely/optimizely-sdk/browser',
      '@optimizely/optimizely-sdk/universal',
      '@optimizely/optimizely-sdk/lite',
    ]) {
      expect(id).toMatch(SDK_IMPORT);
    }
    for (const id of [
      '@optimizely/optimizely-sdk/package.json',
      '@optimizely/optimizely-sdk/dist/modules/logging',
      '@optimizely/react-sdk',
      '/abs/node_modules/@optimizely/optimizely-sdk/dist/index.browser.es.min.js',
    ]) {
      expect(id).not.toMatch(SDK_IMPORT);
    }
  });

  it("knows each SDK file's default export: 5.x ES builds have one, 6.x none, CommonJS always", () => {
    expect(defaultExportOf(join(v5, 'dist/optimizely.browser.es.js'))).toBe('object');
    expect(defaultExportOf(join(v5, 'dist/optimizely.browser.es.min.js'))).toBe('object');
    expect(defaultExportOf(join(v6, 'dist/index.browser.es.min.js'))).toBe('none');
    expect(defaultExportOf(join(v6, 'dist/index.browser.min.js'))).toBe('object');
    expect(defaultExportOf(join(v5, 'dist/optimizely.browser.min.js'))).toBe('object');
    expect(defaultExportOf('/no/such/file.js')).toBe('probe');
  });

  it('re-exports the exact file, with createInstance wrapped and no import the plugins route again', () => {
    const file = join(v5, 'dist/optimizely.browser.es.js');
    const source = proxySource(file);
    expect(source).toContain(`export * from ${JSON.stringify(file)};`);
    expect(source).toContain('export { wrapped as createInstance };');
    expect(source).toContain('export default');
    for (const [, specifier] of source.matchAll(/from\s+("[^"]+")/g)) {
      expect(JSON.parse(specifier as string)).not.toMatch(SDK_IMPORT);
    }
    expect(proxySource(join(v6, 'dist/index.browser.es.min.js'))).not.toContain('export default');
  });
});
