import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The fixture application folders, each with its own SDK major installed. */
export const FIXTURES = {
  sdk5: fileURLToPath(new URL('../../../test/fixtures/sdk5/', import.meta.url)),
  sdk6: fileURLToPath(new URL('../../../test/fixtures/sdk6/', import.meta.url)),
};

/** `require` as the fixture app would call it, so require-in-the-middle sees `@optimizely/optimizely-sdk`. */
export function requireFrom(fixture: keyof typeof FIXTURES) {
  return createRequire(FIXTURES[fixture]);
}
