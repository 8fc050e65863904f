// The least a complete exposure listener does, for the benchmarks to compare with: remember each
// user's variation per flag (bounded; it is also the experiment context), and on a first exposure
// build the event and the profile update as JSON text and send them in batches of up to 2000 to
// /track and /engage over one kept-alive connection. No validation, retry, spool, span, metric or
// time window: what is left is what no design can skip, so its cost is a floor for any listener
// that delivers exposures from inside the process. Its `stage` option stops it early, for the floor
// benchmark: 'remember' (the Map only) or 'build' (the two records built as JSON text, then dropped).
'use strict';
const http = require('node:http');

const BATCH = 2000;
const MAX_USERS = 100_000;

/**
 * Adds the listener to `client`; `flush()` sends what is batched and resolves when Mixpanel answered.
 * `stage`: 'send' (default, the whole listener), 'build' (records built, not kept) or 'remember'.
 */
function addMinimalListener(sdk, client, apiHost, token, stage = 'send') {
  const url = new URL(apiHost);
  const agent = new http.Agent({ keepAlive: true });
  const tokenJson = JSON.stringify(token);
  /** flag key -> (user id -> variation key): user ids are the SDK's own strings, their hashes cached. */
  const seen = new Map();
  let events = [];
  let profiles = [];
  let sequence = 0;
  /** Characters the 'build' stage built and dropped, counted so the work is not optimized away. */
  let builtChars = 0;
  const inFlight = new Set();

  const post = (path, records) => {
    const body = Buffer.from(`[${records.join(',')}]`);
    const sent = new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
        },
        (response) => {
          response.resume();
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(path))));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    inFlight.add(sent);
    sent.finally(() => inFlight.delete(sent)).catch(() => {});
  };
  const send = () => {
    if (events.length > 0) post('/track?verbose=1&ip=0', events);
    if (profiles.length > 0) post('/engage?verbose=1', profiles);
    events = [];
    profiles = [];
  };

  const types = sdk.NOTIFICATION_TYPES ?? sdk.enums.NOTIFICATION_TYPES;
  client.notificationCenter.addNotificationListener(types.DECISION, (n) => {
    const info = n.decisionInfo;
    const userId = n.userId;
    const variation = info.variationKey || 'off';
    let users = seen.get(info.flagKey);
    if (users === undefined) {
      users = new Map();
      seen.set(info.flagKey, users);
    }
    if (users.get(userId) === variation) return;
    users.set(userId, variation);
    if (users.size > MAX_USERS) users.delete(users.keys().next().value);
    if (stage === 'remember') return;
    const time = Date.now();
    const user = JSON.stringify(userId);
    const flag = JSON.stringify(info.flagKey);
    const value = JSON.stringify(variation);
    const event =
      `{"event":"Experiment Viewed","properties":{"distinct_id":${user},"time":${time},` +
      `"$insert_id":"${time.toString(36)}-${(sequence++).toString(36)}","flag_key":${flag},` +
      `"variation_key":${value},"rule_key":${JSON.stringify(info.ruleKey)},"enabled":${info.enabled === true},` +
      `"token":${tokenJson}}}`;
    const profile = `{"$token":${tokenJson},"$distinct_id":${user},"$set":{${JSON.stringify(`[Optimizely] ${info.flagKey}`)}:${value}}}`;
    if (stage === 'build') {
      builtChars += event.length + profile.length;
      return;
    }
    events.push(event);
    profiles.push(profile);
    if (events.length >= BATCH) send();
  });

  return {
    async flush() {
      send();
      await Promise.all(inFlight);
    },
    /** Records sent so far, events and profile updates. */
    get sent() {
      return stage === 'send' ? 2 * sequence - events.length - profiles.length : 0;
    },
    /** Characters of the records the 'build' stage built and dropped. */
    get builtChars() {
      return builtChars;
    },
    /** Exposures remembered so far (first exposures of a user for a flag, up to the cap per flag). */
    get remembered() {
      let n = 0;
      for (const users of seen.values()) n += users.size;
      return n;
    },
  };
}

module.exports = { addMinimalListener };
