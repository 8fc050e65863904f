import { describe, expect, it } from 'vitest';
import { classifyResponse, type Outcome } from '../src/response.js';
import type { Endpoint } from '../src/transport.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('classifyResponse', () => {
  const table: Array<[string, Endpoint, number, string, string | undefined, Outcome]> = [
    ['/track 1', 'track', 200, '1', undefined, { kind: 'ok', rejected: 0 }],
    ['/track verbose ok', 'track', 200, '{"status":1,"error":null}', undefined, { kind: 'ok', rejected: 0 }],
    ['/engage verbose ok', 'engage', 200, '{"status":1}', undefined, { kind: 'ok', rejected: 0 }],
    ['/track 0', 'track', 200, '0', undefined, { kind: 'drop', reason: 'rejected' }],
    ['/track status 0', 'track', 200, '{"status":0,"error":"bad"}', undefined, { kind: 'drop', reason: 'rejected' }],
    [
      '/import ok',
      'import',
      200,
      '{"code":200,"num_records_imported":2,"status":"OK"}',
      undefined,
      { kind: 'ok', rejected: 0 },
    ],
    ['/track empty 200 (a proxy)', 'track', 200, '', undefined, { kind: 'retry', retryAfterMs: undefined }],
    [
      '/engage HTML 200 (a portal)',
      'engage',
      200,
      '<html>Sign in</html>',
      undefined,
      { kind: 'retry', retryAfterMs: undefined },
    ],
    ['/track other JSON 200', 'track', 200, '{"ok":true}', undefined, { kind: 'retry', retryAfterMs: undefined }],
    ['/import HTML 200', 'import', 200, '<html></html>', undefined, { kind: 'retry', retryAfterMs: undefined }],
    ['/import empty 204', 'import', 204, '', undefined, { kind: 'retry', retryAfterMs: undefined }],
    [
      '/import strict failures',
      'import',
      400,
      '{"code":400,"failed_records":[{"index":0}],"num_records_imported":4}',
      undefined,
      { kind: 'ok', rejected: 1 },
    ],
    [
      '/import 400 without list',
      'import',
      400,
      '{"code":400,"error":"x"}',
      undefined,
      { kind: 'drop', reason: 'rejected' },
    ],
    ['/track 400', 'track', 400, '{"status":0,"error":"x"}', undefined, { kind: 'drop', reason: 'rejected' }],
    ['401', 'track', 401, '', undefined, { kind: 'drop', reason: 'unauthorized' }],
    ['403', 'import', 403, '', undefined, { kind: 'drop', reason: 'unauthorized' }],
    ['404', 'engage', 404, 'not found', undefined, { kind: 'drop', reason: 'rejected' }],
    ['413', 'track', 413, '', undefined, { kind: 'split' }],
    ['301', 'track', 301, '', undefined, { kind: 'drop', reason: 'redirected' }],
    ['307', 'engage', 307, '', undefined, { kind: 'drop', reason: 'redirected' }],
    ['308', 'import', 308, '', undefined, { kind: 'drop', reason: 'redirected' }],
    ['408', 'track', 408, '', undefined, { kind: 'retry', retryAfterMs: undefined }],
    ['429 Retry-After seconds', 'track', 429, '', '2', { kind: 'retry', retryAfterMs: 2000 }],
    [
      '503 Retry-After date',
      'engage',
      503,
      '',
      new Date(NOW + 3000).toUTCString(),
      { kind: 'retry', retryAfterMs: 3000 },
    ],
    ['500', 'import', 500, '', undefined, { kind: 'retry', retryAfterMs: undefined }],
    ['no status (client transport)', 'track', 0, '', undefined, { kind: 'retry', retryAfterMs: undefined }],
  ];

  it.each(table)('%s', (_name, endpoint, status, body, retryAfter, expected) => {
    expect(classifyResponse(endpoint, 5, { status, body, retryAfter }, NOW)).toEqual(expected);
  });

  it('never counts more rejections than the batch held', () => {
    const body = JSON.stringify({ failed_records: [{}, {}, {}] });
    expect(classifyResponse('import', 2, { status: 400, body }, NOW)).toEqual({ kind: 'ok', rejected: 2 });
  });
});
