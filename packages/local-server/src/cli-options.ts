import type { ParseArgsConfig } from 'node:util';

/** The CLI's flags; {@link USAGE} documents each of them. */
export const CLI_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  token: { type: 'string' },
  fault: { type: 'string' },
  static: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const USAGE = `Usage: mixpanel-local-server [options]

A local stand-in for Mixpanel's ingestion API (/track, /import, /engage). Point an integration at it
(e.g. MIXPANEL_API_HOST=http://127.0.0.1:8080) and watch the events and profile updates it would send.
Ctrl-C prints a summary table. Read back as JSON: GET /_local/events, /_local/profiles, /_local/requests,
/_local/summary; POST /_local/reset; POST /_local/faults?fault=503&times=3&path=/track.

Options:
  -p, --port PORT     port to listen on (default 8080; 0 picks a free one)
      --host HOST     interface to listen on (default 127.0.0.1)
      --token TOKEN   only accept records carrying this project token
      --fault FAULT   play a fault on every ingestion request: 429, 429:retry-after=2, 500 (any 4xx/5xx),
                      hang, reset, delay=MS, redirect=307 (any 3xx; redirect=301:location=URL),
                      html or empty (a 200 that is not Mixpanel's answer, as from a proxy or captive portal)
      --static DIR    also serve the files of this folder (a page and its Mixpanel API on one origin)
  -q, --quiet         do not print records as they arrive
  -h, --help          print this help`;
