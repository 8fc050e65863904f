/**
 * What the build plugins share: which imports to route, and the module that
 * stands in for the SDK copy an importer resolved. Runs in Node at build time.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The SDK's package name and the subpaths that export `createInstance`. */
export const SDK_IMPORT = /^@optimizely\/optimizely-sdk(?:\/(?:browser|universal|lite))?$/;

/** Prefix of the generated module ids; what follows is the SDK file the importer resolved. */
export const PROXY_PREFIX = 'optimizely-mixpanel-sdk:';

/** This package's entry, imported by absolute path so no alias or resolver can route it back. */
const ENTRY = fileURLToPath(new URL('./index.js', import.meta.url));

/** How the generated module handles the SDK's default export. */
export type DefaultExport = 'none' | 'object' | 'probe';

/**
 * Whether an SDK file has a default export: 5.x ES builds export a default
 * object, 6.x builds none; CommonJS files always have one (`module.exports`).
 * `probe` when the file cannot be read (a dev server's pre-bundled copy).
 */
export function defaultExportOf(file: string): DefaultExport {
  let code: string;
  try {
    code = readFileSync(file.replace(/[?#].*$/, ''), 'utf8');
  } catch {
    return 'probe';
  }
  const esm = /(?:^|[\s;}])(?:export\s*[{*]|export\s+(?:default|const|let|var|function|class)\b|import\s*[{*"'])/.test(
    code,
  );
  if (!esm) return 'object';
  return /\bexport\s+default\b|\bas\s+default\s*[,}]/.test(code) ? 'object' : 'none';
}

/**
 * Source of the module that replaces one SDK copy for its importers: the
 * copy's whole surface (`export *`, its default object when it has one) with
 * `createInstance` wrapped. The SDK file is imported by absolute path, which no
 * build plugin routes again: no cycle.
 */
export function proxySource(sdkFile: string, defaultExport: DefaultExport = defaultExportOf(sdkFile)): string {
  const sdk = JSON.stringify(sdkFile);
  const lines = [
    `import * as sdk from ${sdk};`,
    `import { wrapCreateInstance } from ${JSON.stringify(ENTRY)};`,
    `export * from ${sdk};`,
    'const original = sdk.createInstance;',
    "const wrapped = typeof original === 'function' ? wrapCreateInstance(original) : original;",
    'export { wrapped as createInstance };',
  ];
  if (defaultExport !== 'none') {
    // A dev server's namespace tolerates reading a default that is not there; bundlers are told exactly.
    lines.push(
      "const base = sdk['default'];",
      "export default base && typeof base === 'object' && typeof base.createInstance === 'function' ? { ...base, createInstance: wrapCreateInstance(base.createInstance) } : base;",
    );
  }
  return `${lines.join('\n')}\n`;
}
