import { describe, expect, it } from 'vitest';
import { requestBody, requestBytes, takeBatch, tokenOverhead } from '../src/batch.js';
import { RecordQueue, recordValue, toQueuedRecord } from '../src/record-queue.js';

const TOKEN = 'tok-"quoted"-é';

describe('batches', () => {
  const track = new RecordQueue('track', 'event');
  const engage = new RecordQueue('engage', 'profile');
  const imports = new RecordQueue('import', 'event');

  it('adds the token where each endpoint wants it, as the spread objects would', () => {
    const events = [
      { event: 'E', properties: { distinct_id: 'u', time: 1, $insert_id: 'i' } },
      { event: 'E', properties: {} },
      { event: 'E', properties: { token: 'theirs', nested: { properties: {} } } },
    ];
    const body = JSON.parse(
      requestBody(
        track,
        events.map((e) => toQueuedRecord(track, e, undefined)),
        TOKEN,
      ),
    );
    expect(body).toEqual(events.map((e) => ({ event: e.event, properties: { ...e.properties, token: TOKEN } })));

    const updates = [{ $distinct_id: 'u', $set: { a: 'b' } }, {}];
    const profiles = JSON.parse(
      requestBody(
        engage,
        updates.map((u) => toQueuedRecord(engage, u, undefined)),
        TOKEN,
      ),
    );
    expect(profiles).toEqual(updates.map((u) => ({ $token: TOKEN, ...u })));

    const imported = JSON.parse(requestBody(imports, [toQueuedRecord(imports, events[0]!, undefined)], TOKEN));
    expect(imported).toEqual([events[0]]);
  });

  it('keeps queued records token-free and JSON-able, time and $insert_id unchanged', () => {
    const event = { event: 'E', properties: { distinct_id: 'u', time: 1234.5, $insert_id: 'abc-1' } };
    const record = toQueuedRecord(track, event, undefined);
    expect(recordValue(record)).toEqual(event);
    expect(record.bytes).toBe(Buffer.byteLength(record.json));
  });

  it('refuses what JSON cannot encode or what has the wrong shape', () => {
    expect(() => toQueuedRecord(track, { event: 'E', properties: { n: 1n } }, undefined)).toThrow();
    expect(() => toQueuedRecord(track, { event: 'E', properties: 'abc' }, undefined)).toThrow(TypeError);
    expect(() => toQueuedRecord(engage, [] as never, undefined)).toThrow(TypeError);
  });

  it('fills a batch to its byte limit, token included, and sets aside records too large for any', () => {
    const q = new RecordQueue('track', 'event');
    const event = (size: number) => ({ event: 'E', properties: { pad: 'x'.repeat(size) } });
    q.items = [event(250), event(250), event(5000), event(250)].map((e) => toQueuedRecord(q, e, undefined));
    const { records, tooLarge } = takeBatch(q, { maxBatchSize: 100, maxBatchBytes: 1024 }, tokenOverhead(TOKEN));
    expect(records).toHaveLength(3);
    expect(tooLarge).toHaveLength(1);
    expect(Buffer.byteLength(requestBody(q, records, TOKEN))).toBeLessThanOrEqual(1024);
    expect(q.items).toHaveLength(0);
  });

  it('writes the body as bytes equal to the encoded string, for every endpoint, or leaves it to the string', () => {
    const events = [
      { event: 'E', properties: { distinct_id: 'ünï "q" 😀', time: 1, $insert_id: 'i' } },
      { event: 'E', properties: {} },
      { event: 'Ê', properties: { token: 'theirs', nested: { properties: {} } } },
    ];
    const updates = [{ $distinct_id: 'ü', $set: { 'ä b': 'c\n' } }, {}];
    for (const token of [TOKEN, 'plain', '😀']) {
      for (const [q, values] of [
        [track, events],
        [imports, events],
        [engage, updates],
      ] as const) {
        const records = values.map((v) => toQueuedRecord(q, v, undefined));
        const bytes = requestBytes(q, records, token);
        expect(bytes && Buffer.from(bytes).toString()).toBe(requestBody(q, records, token));
        // What the spread objects would give, unicode and quotes included.
        const sent = JSON.parse(requestBody(q, records, token)) as unknown[];
        if (q === imports) expect(sent).toEqual(values);
        else if (q === engage) expect(sent).toEqual(values.map((u) => ({ $token: token, ...u })));
        else
          expect(sent).toEqual(
            (values as typeof events).map((e) => ({ event: e.event, properties: { ...e.properties, token } })),
          );
        expect(requestBytes(q, [], token)?.toString()).toBe('[]');
        // A record whose byte count is not its own: the caller encodes the string instead.
        expect(requestBytes(q, [{ ...records[0]!, bytes: records[0]!.bytes - 1 }], token)).toBeUndefined();
      }
    }
  });
});
