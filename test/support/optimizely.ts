import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The fixture datafile (`test/fixtures/datafile.json`), as a JSON string. */
export const DATAFILE_PATH = fileURLToPath(new URL('../fixtures/datafile.json', import.meta.url));
export const DATAFILE = readFileSync(DATAFILE_PATH, 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: the two SDK majors have unrelated type surfaces.
export type AnySdk = any;
// biome-ignore lint/suspicious/noExplicitAny: see above.
export type AnyClient = any;

/** The DECISION notification type as the loaded SDK spells it (5.x and 6.x differ). */
export function decisionType(sdk: AnySdk): string {
  return sdk.NOTIFICATION_TYPES?.DECISION ?? sdk.enums.NOTIFICATION_TYPES.DECISION;
}

/** A client on the fixture datafile with no network: no event dispatch, no ODP, no polling. */
export function createOfflineClient(sdk: AnySdk): AnyClient {
  if (typeof sdk.createStaticProjectConfigManager === 'function') {
    return sdk.createInstance({
      projectConfigManager: sdk.createStaticProjectConfigManager({ datafile: DATAFILE }),
    });
  }
  return sdk.createInstance({
    datafile: DATAFILE,
    logLevel: 'error',
    eventDispatcher: {
      dispatchEvent: (_event: unknown, callback?: (r: unknown) => void) => callback?.({ statusCode: 204 }),
    },
    odpOptions: { disabled: true },
  });
}
