// An ordinary service on the Optimizely SDK. Nothing here mentions Mixpanel or OpenTelemetry:
// `node --require @optimizely-mixpanel/node/register server.cjs` adds both.
const { createServer } = require('node:http');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { createInstance, createStaticProjectConfigManager } = require('@optimizely/optimizely-sdk');

const datafile = readFileSync(process.env.DATAFILE ?? join(__dirname, 'datafile.json'), 'utf8');
const optimizely = createInstance({ projectConfigManager: createStaticProjectConfigManager({ datafile }) });

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://service');
  const userId = url.searchParams.get('user');
  if (url.pathname !== '/checkout' || !userId) {
    res.writeHead(404).end();
    return;
  }
  const user = optimizely.createUserContext(userId, { plan: url.searchParams.get('plan') ?? 'free' });
  if (url.searchParams.get('plan') === 'premium') user.qualifiedSegments = ['premium_users'];
  const checkout = user.decide('checkout_redesign');
  const banner = user.decide('premium_banner');
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(
    JSON.stringify({
      layout: checkout.variationKey,
      buttonColor: checkout.variables.button_color,
      banner: banner.enabled,
    }),
  );
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`checkout service listening on http://127.0.0.1:${server.address().port}`);
});
