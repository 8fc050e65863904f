import { describe, expect, it } from 'vitest';
import { parseFault } from '../src/faults.js';

describe('parseFault', () => {
  it("parses reply faults: redirects, and 200s that are not Mixpanel's answer", () => {
    expect(parseFault('redirect=307')).toMatchObject({
      kind: 'reply',
      name: 'redirect=307',
      status: 307,
      headers: { Location: '/track-moved' },
    });
    expect(parseFault('redirect=301:location=http://127.0.0.1:9/track?x=1')).toMatchObject({
      status: 301,
      headers: { Location: 'http://127.0.0.1:9/track?x=1' },
    });
    expect(parseFault('html')).toMatchObject({ kind: 'reply', status: 200, contentType: 'text/html' });
    expect(parseFault('empty')).toMatchObject({ kind: 'reply', status: 200, body: '' });
  });

  it('refuses what it cannot play', () => {
    expect(() => parseFault('redirect=200')).toThrow(/301, 302, 303, 307 or 308/);
    expect(() => parseFault('redirect=307:to=x')).toThrow(/unknown option/);
    expect(() => parseFault('teapot')).toThrow(/redirect=3xx, html or empty/);
  });
});
