import {
  type Attributes,
  diag,
  type MeterProvider,
  metrics,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
  safeExecuteInTheMiddle,
} from '@opentelemetry/instrumentation';
import { type ClientConfigCache, CONFIG_UPDATE, subscribeClient } from '@optimizely-mixpanel/core';
import { MixpanelExporter, RateLimitedLog } from '@optimizely-mixpanel/exporter';
import { CohortTargeting, cohortConfig } from './cohorts.js';
import { configFromEnv } from './config.js';
import { type DecisionCounts, DecisionHandler, type DecisionStats, type HandlerTelemetry } from './decision-handler.js';
import { track } from './lifecycle.js';
import {
  ATTR_OPTIMIZELY_EXPOSURE,
  ATTR_OPTIMIZELY_SKIP_REASON,
  METRIC_DECISIONS,
  METRIC_HOOK_REMOVALS,
} from './semconv.js';
import type { OptimizelyMixpanelInstrumentationConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const SDK = '@optimizely/optimizely-sdk';
const SUPPORTED = ['>=5.1.0 <7']; // what pnpm test:versions covers: the latest patch of every 5.x and 6.x minor

type CreateInstance = (this: unknown, ...args: unknown[]) => unknown;
interface SdkModule {
  createInstance?: CreateInstance;
  default?: SdkModule;
  [Symbol.toStringTag]?: string;
}
interface RuntimeState {
  instrumented: WeakSet<object>;
  handler: DecisionHandler | undefined;
  ownExporter: MixpanelExporter | undefined;
  exporterFailed: boolean;
  warnedEarly: boolean;
  warned: Set<string>;
  counts: DecisionCounts;
  log: RateLimitedLog;
  tracerProvider: TracerProvider | undefined;
  meterProvider: MeterProvider | undefined;
  telemetry: HandlerTelemetry | undefined;
  cohorts: CohortTargeting | undefined;
  cohortsFailed: boolean;
}

/**
 * Sends every Optimizely Feature Experimentation decision to Mixpanel and
 * records it on the active span. Wraps `createInstance` of
 * `@optimizely/optimizely-sdk` 5.x and 6.x, loaded by `require` or `import`, so
 * the DECISION listener exists before the client is returned.
 *
 * @example
 * ```ts
 * const sdk = new NodeSDK({ instrumentations: [new OptimizelyMixpanelInstrumentation({ token: process.env.MIXPANEL_TOKEN })] });
 * sdk.start();
 * ```
 */
export class OptimizelyMixpanelInstrumentation extends InstrumentationBase<OptimizelyMixpanelInstrumentationConfig> {
  // The base constructor calls setConfig() and enable(), and so may patch, before field initializers
  // would run: state is created on first use, and `declare` keeps the field from being reset after super().
  declare private runtime: RuntimeState | undefined;

  /**
   * Configuration is merged over the environment (`MIXPANEL_TOKEN`,
   * `MIXPANEL_API_HOST`, `OPTIMIZELY_MIXPANEL_*`); code wins. Never throws: an
   * invalid optional value warns once, naming the variable, and takes its default.
   */
  constructor(config: OptimizelyMixpanelInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  /** Replaces the configuration; clients keep their listener, which uses the new one from the next decision. Never throws. */
  override setConfig(config: OptimizelyMixpanelInstrumentationConfig = {}): void {
    const warnings: string[] = [];
    let merged: OptimizelyMixpanelInstrumentationConfig = config;
    try {
      merged = { ...configFromEnv(process.env, (message) => warnings.push(message)), ...config };
    } catch (error) {
      warnings.push(`the environment could not be read; code configuration alone applies: ${String(error)}`);
    }
    super.setConfig(merged);
    const state = this.state;
    const own = state.ownExporter;
    if (own) void own.shutdown({ timeoutMs: 1000 }).catch(() => undefined);
    state.ownExporter = undefined;
    state.exporterFailed = false;
    state.handler = undefined;
    void state.cohorts?.shutdown();
    state.cohorts = undefined;
    state.cohortsFailed = false;
    for (const warning of warnings) this.warnOnce(warning, warning);
  }

  override setTracerProvider(tracerProvider: TracerProvider): void {
    super.setTracerProvider(tracerProvider);
    this.state.tracerProvider = tracerProvider;
  }

  override setMeterProvider(meterProvider: MeterProvider): void {
    this.state.meterProvider = meterProvider;
    super.setMeterProvider(meterProvider);
  }

  protected override _updateMetricInstruments(): void {
    // Observed at collection from the plain counts the decision path keeps.
    const { outcomes, removals } = this.state.counts;
    const observe = (name: string, description: string, counts: Record<string, number>, attribute: string) =>
      this.meter.createObservableCounter(name, { description }).addCallback((result) => {
        for (const [value, n] of Object.entries(counts)) result.observe(n, attributesOf(attribute, value));
      });
    observe(
      METRIC_DECISIONS,
      'Optimizely decisions, by optimizely.exposure: exported, or why not (duplicate, no_rule, ...)',
      outcomes,
      ATTR_OPTIMIZELY_EXPOSURE,
    );
    observe(
      METRIC_HOOK_REMOVALS,
      'Exposure events removed by the exposure hook, by optimizely.skip.reason',
      removals,
      ATTR_OPTIMIZELY_SKIP_REASON,
    );
  }

  private get state(): RuntimeState {
    this.runtime ??= {
      instrumented: new WeakSet(),
      handler: undefined,
      ownExporter: undefined,
      exporterFailed: false,
      warnedEarly: false,
      warned: new Set(),
      counts: { outcomes: {}, removals: {} },
      log: new RateLimitedLog(() => this.log),
      tracerProvider: undefined,
      meterProvider: undefined,
      telemetry: undefined,
      cohorts: undefined,
      cohortsFailed: false,
    };
    return this.runtime;
  }

  /** `this._diag`, or the same component logger while the base constructor runs. */
  private get log() {
    return this._diag ?? diag.createComponentLogger({ namespace: PACKAGE_NAME });
  }

  private warnOnce(key: string, message: string): void {
    const state = this.state;
    if (state.warned.has(key)) return;
    state.warned.add(key);
    this.log.warn(message);
  }

  protected init() {
    const patch = (exports: SdkModule) => this.patchSdk(exports);
    const unpatch = (exports: SdkModule) => this.unpatchSdk(exports);
    // Subpath entries resolve to files of their own: a hook on the package name does not see them.
    const files = ['dist/index.universal.min.js', 'dist/index.universal.es.min.js', 'dist/index.node.es.min.mjs'].map(
      (file) => new InstrumentationNodeModuleFile(`${SDK}/${file}`, ['>=6.0.0 <7'], patch, unpatch),
    );
    // 5.x by `import` of `/node`: the main file, reached by its path rather than the package name.
    files.push(new InstrumentationNodeModuleFile(`${SDK}/dist/optimizely.node.min.js`, ['>=5.1.0 <6'], patch, unpatch));
    return [new InstrumentationNodeModuleDefinition(SDK, SUPPORTED, patch, unpatch, files)];
  }

  override enable(): void {
    super.enable();
    this.warnIfLoadedEarly();
  }

  /**
   * Adds the DECISION listener to a client the patch could not reach (created
   * before enable, or from a bundled copy of the SDK). Idempotent: a client never
   * gets two listeners. Returns whether the client is instrumented. Never throws.
   */
  instrumentClient(client: unknown, sdk?: unknown): boolean {
    const subscribed = safeExecuteInTheMiddle(
      () => {
        if (!client || typeof client !== 'object') return false;
        this.decisionHandler(); // the exporter (or the missing-token warning) comes with the first client
        track(this); // its exposures survive exit, crash and signals, whichever way it was registered
        const listener = (notification: unknown, config: ClientConfigCache) => {
          if (this.isEnabled()) this.decisionHandler().handle(notification, config);
        };
        const onConfigError = (error: unknown) =>
          this.state.log.warn(
            'client-config',
            `getOptimizelyConfig() threw; decisions are still exported, with rule kinds from rule keys alone: ${String(error)}`,
          );
        const subscribed = subscribeClient(client, listener, this.state.instrumented, sdk, onConfigError);
        // The lookup reads the current replica: a client keeps following cohorts across setConfig().
        const segments = (id: string) => (this.isEnabled() ? this.state.cohorts?.segmentsFor(id) : undefined);
        if (subscribed) this.cohorts?.instrument(client, segments, CONFIG_UPDATE);
        return subscribed;
      },
      (error) => {
        if (error) this._diag.error(`could not instrument an Optimizely client; it works as before: ${String(error)}`);
      },
      true,
    );
    return subscribed === true;
  }

  /** What became of decisions so far: exported, and skipped by reason. */
  stats(): DecisionStats {
    const { outcomes, removals } = this.state.counts;
    const { exported = 0, ...skipped } = outcomes;
    for (const [reason, n] of Object.entries(removals)) skipped[reason] = (skipped[reason] ?? 0) + n;
    return { exported, skipped };
  }

  /** The exporter in use (to flush or read stats); created with the first instrumented client. */
  get exporter(): MixpanelExporter | undefined {
    return this.getConfig().exporter ?? this.state.ownExporter;
  }

  /**
   * Mixpanel cohort targeting (the `cohorts` option), started with the first
   * instrumented client; undefined when off.
   */
  get cohorts(): CohortTargeting | undefined {
    const state = this.state;
    if (state.cohorts || state.cohortsFailed) return state.cohorts;
    const config = cohortConfig(this.getConfig().cohorts);
    if (!config) return undefined;
    try {
      state.cohorts = new CohortTargeting(config, this.meter, this.log);
    } catch (error) {
      state.cohortsFailed = true;
      this.log.error(`Mixpanel cohort targeting is off: ${(error as Error).message}`);
    }
    return state.cohorts;
  }

  /** Flushes queued exposures; resolves when they are delivered or dropped. */
  async flush(): Promise<void> {
    await this.exporter?.flush();
  }

  /** Flushes within `timeoutMs` and stops the exporter this instrumentation created. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    await Promise.all([this.state.ownExporter?.shutdown({ timeoutMs }), this.state.cohorts?.shutdown()]);
  }

  private patchSdk(exports: SdkModule): SdkModule {
    // ESM namespaces of CJS modules (5.x by `import`) carry the CJS exports on `default`.
    const targets = [exports, exports?.default].filter(
      (t, i, all): t is SdkModule => !!t && typeof t.createInstance === 'function' && all.indexOf(t) === i,
    );
    for (const target of targets) {
      if (isWrapped(target.createInstance)) continue;
      this._wrap(target, 'createInstance', (original) => this.wrapCreateInstance(original as CreateInstance, exports));
    }
    return exports;
  }

  private unpatchSdk(exports: SdkModule): void {
    for (const target of [exports, exports?.default]) {
      if (target && isWrapped(target.createInstance)) this._unwrap(target, 'createInstance');
    }
  }

  private wrapCreateInstance(original: CreateInstance, sdk: SdkModule): CreateInstance {
    const instrumentation = this;
    return function createInstance(this: unknown, ...args: unknown[]) {
      // Invalid configs behave as without us: 6.x throws, 5.x returns null.
      const client = original.apply(this, args);
      if (client) instrumentation.instrumentClient(client, sdk);
      return client;
    };
  }

  private decisionHandler(): DecisionHandler {
    const state = this.state;
    if (!state.handler) {
      // With cohorts on, evaluation events also name the cohorts a decision relied on.
      const config = this.cohorts?.withEvaluationAttributes(this.getConfig()) ?? this.getConfig();
      state.telemetry ??= {
        tracer: () => this.tracer,
        counts: state.counts,
        log: state.log,
        warnOnce: (key, message) => this.warnOnce(key, message),
      };
      state.handler = new DecisionHandler(config, config.exporter ?? this.createExporter(), state.telemetry, (m) =>
        this.warnOnce(m, m),
      );
    }
    return state.handler;
  }

  /**
   * Export spans go through this instrumentation's tracer provider, so
   * `setTracerProvider()` reaches them whenever it is called.
   */
  private exportTracerProvider(): TracerProvider {
    const state = this.state;
    return {
      getTracer(name, version, options) {
        const current = () => (state.tracerProvider ?? trace.getTracerProvider()).getTracer(name, version, options);
        return {
          startSpan: (spanName, spanOptions, context) => current().startSpan(spanName, spanOptions, context),
          startActiveSpan: ((...args: Parameters<Tracer['startActiveSpan']>) =>
            (current().startActiveSpan as (...a: unknown[]) => unknown)(...args)) as Tracer['startActiveSpan'],
        };
      },
    };
  }

  private createExporter(): MixpanelExporter | undefined {
    const state = this.state;
    if (state.ownExporter || state.exporterFailed) return state.ownExporter;
    const config = this.getConfig();
    const token = config.exporterConfig?.token ?? config.token;
    if (!token) {
      state.exporterFailed = true;
      this._diag.warn(
        'MIXPANEL_TOKEN is not set: Optimizely decisions are not sent to Mixpanel (spans still record them).',
      );
      return undefined;
    }
    const apiHost = config.exporterConfig?.apiHost ?? config.apiHost;
    if (apiHost !== undefined && !URL.canParse(apiHost)) {
      state.exporterFailed = true;
      // The value is not echoed: a token pasted into the wrong variable must not reach a log.
      this._diag.error('Mixpanel export is off: MIXPANEL_API_HOST (apiHost) is not an absolute URL');
      return undefined;
    }
    try {
      state.ownExporter = new MixpanelExporter({
        ...(config.apiHost ? { apiHost: config.apiHost } : {}),
        ...(config.region ? { region: config.region } : {}),
        tracerProvider: this.exportTracerProvider(),
        meterProvider: state.meterProvider ?? metrics.getMeterProvider(),
        ...config.exporterConfig,
        token,
      });
    } catch (error) {
      state.exporterFailed = true;
      // The message names the option; exporter errors never carry the token.
      this._diag.error(`Mixpanel export is off: ${(error as Error).message}`);
    }
    return state.ownExporter;
  }

  /** The "registered too late" failure: the SDK was loaded before we could patch it. */
  private warnIfLoadedEarly(): void {
    const state = this.state;
    if (state.warnedEarly || typeof require === 'undefined') return;
    // An SDK entry in the cache whose createInstance we did not wrap: its clients escape us.
    const early = Object.entries(require.cache).some(([path, cached]) => {
      if (!/[\\/]@optimizely[\\/]optimizely-sdk[\\/]dist[\\/]/.test(path)) return false;
      const createInstance = (cached?.exports as SdkModule | undefined)?.createInstance;
      return typeof createInstance === 'function' && !isWrapped(createInstance);
    });
    if (!early) return;
    state.warnedEarly = true;
    this.log.warn(
      `${SDK} was loaded before ${PACKAGE_NAME} was enabled: clients created before now get no Mixpanel exposures. ` +
        `With the preload, put \`--require ${PACKAGE_NAME}/register\` (or --import for ESM) before any other preload that loads the SDK; ` +
        'with your own NodeSDK, call sdk.start() before the first require or import of the SDK, or pass each early client to instrumentation.instrumentClient(client).',
    );
  }
}

const metricAttributes = new Map<string, Attributes>();
/** `{ [name]: value }`, made once per pair (a handful of outcomes). */
function attributesOf(name: string, value: string): Attributes {
  const key = `${name}=${value}`;
  let attributes = metricAttributes.get(key);
  if (!attributes) {
    attributes = { [name]: value };
    metricAttributes.set(key, attributes);
  }
  return attributes;
}
