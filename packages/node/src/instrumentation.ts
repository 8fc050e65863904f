import { diag } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
} from '@opentelemetry/instrumentation';
import { MixpanelExporter } from '@optimizely-mixpanel/exporter';
import { ClientConfigCache } from './client-config.js';
import { configFromEnv } from './config.js';
import { DecisionHandler } from './decision-handler.js';
import { track } from './lifecycle.js';
import type { OptimizelyMixpanelInstrumentationConfig } from './types.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.js';

const SDK = '@optimizely/optimizely-sdk';
const SUPPORTED = ['>=5.0.0 <7'];
const DECISION_6 = 'DECISION';
const DECISION_5 = 'DECISION:type, userId, attributes, decisionInfo';
const CONFIG_UPDATE = 'OPTIMIZELY_CONFIG_UPDATE';

type CreateInstance = (this: unknown, ...args: unknown[]) => unknown;
interface NotificationCenter {
  addNotificationListener(type: string, listener: (payload: unknown) => void): number;
  removeNotificationListener?(id: number): boolean;
}
interface SdkModule {
  createInstance?: CreateInstance;
  default?: SdkModule;
  NOTIFICATION_TYPES?: { DECISION?: string; OPTIMIZELY_CONFIG_UPDATE?: string };
  enums?: { NOTIFICATION_TYPES?: { DECISION?: string; OPTIMIZELY_CONFIG_UPDATE?: string } };
  [Symbol.toStringTag]?: string;
}
interface RuntimeState {
  instrumented: WeakSet<object>;
  handler: DecisionHandler | undefined;
  ownExporter: MixpanelExporter | undefined;
  exporterFailed: boolean;
  warnedEarly: boolean;
}

interface Client {
  notificationCenter?: NotificationCenter;
  getOptimizelyConfig?: () => unknown;
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
  // The base constructor calls enable(), and so may patch, before field initializers would run:
  // state is created on first use, and `declare` keeps the field from being reset after super().
  declare private runtime: RuntimeState | undefined;

  /**
   * Configuration is merged over the environment (`MIXPANEL_TOKEN`,
   * `MIXPANEL_API_HOST`, `OPTIMIZELY_MIXPANEL_*`); code wins.
   * @throws TypeError on an invalid value (naming the variable or option).
   */
  constructor(config: OptimizelyMixpanelInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, { ...configFromEnv(), ...config });
  }

  /** Replaces the configuration; clients keep their listener, which uses the new one from the next decision. */
  override setConfig(config: OptimizelyMixpanelInstrumentationConfig = {}): void {
    super.setConfig({ ...configFromEnv(), ...config });
    const state = this.state;
    void state.ownExporter?.shutdown({ timeoutMs: 1000 });
    state.ownExporter = undefined;
    state.exporterFailed = false;
    state.handler = undefined;
  }

  private get state(): RuntimeState {
    this.runtime ??= {
      instrumented: new WeakSet(),
      handler: undefined,
      ownExporter: undefined,
      exporterFailed: false,
      warnedEarly: false,
    };
    return this.runtime;
  }

  protected init() {
    const patch = (exports: SdkModule) => this.patchSdk(exports);
    const unpatch = (exports: SdkModule) => this.unpatchSdk(exports);
    // Subpath entries resolve to files of their own: a hook on the package name does not see them.
    const files = ['dist/index.universal.min.js', 'dist/index.universal.es.min.js', 'dist/index.node.es.min.mjs'].map(
      (file) => new InstrumentationNodeModuleFile(`${SDK}/${file}`, ['>=6.0.0 <7'], patch, unpatch),
    );
    return [new InstrumentationNodeModuleDefinition(SDK, SUPPORTED, patch, unpatch, files)];
  }

  override enable(): void {
    super.enable();
    this.warnIfLoadedEarly();
  }

  /**
   * Adds the DECISION listener to a client the patch could not reach (created
   * before enable, or from a bundled copy of the SDK). Idempotent: a client never
   * gets two listeners. Returns whether the client is instrumented.
   */
  instrumentClient(client: unknown, sdk?: SdkModule): boolean {
    try {
      if (!client || typeof client !== 'object') return false;
      if (this.state.instrumented.has(client)) return true;
      const center = (client as Client).notificationCenter;
      if (!center || typeof center.addNotificationListener !== 'function') return false;

      this.decisionHandler(); // the exporter (or the missing-token warning) comes with the first client
      track(this); // its exposures survive exit, crash and signals, whichever way it was registered
      const types =
        sdk?.NOTIFICATION_TYPES ?? sdk?.enums?.NOTIFICATION_TYPES ?? sdk?.default?.enums?.NOTIFICATION_TYPES;
      const cache = new ClientConfigCache(client as Client);
      const listener = (payload: unknown) => {
        if (this.isEnabled()) this.decisionHandler().handle(payload, cache);
      };
      // The type string differs by major version: take the loaded module's, else try both.
      let id = -1;
      for (const type of types?.DECISION ? [types.DECISION] : [DECISION_6, DECISION_5]) {
        id = center.addNotificationListener(type, listener);
        if (typeof id !== 'number' || id >= 0) break;
      }
      if (typeof id === 'number' && id < 0) return false;
      // Subscribed only once the DECISION listener is in: a refused client keeps no listener of ours.
      center.addNotificationListener(types?.OPTIMIZELY_CONFIG_UPDATE ?? CONFIG_UPDATE, () => cache.invalidate());
      this.state.instrumented.add(client);
      return true;
    } catch (error) {
      this._diag.error(`could not instrument an Optimizely client; it works as before: ${String(error)}`);
      return false;
    }
  }

  /** The exporter in use (to flush or read stats); created with the first instrumented client. */
  get exporter(): MixpanelExporter | undefined {
    return this.getConfig().exporter ?? this.state.ownExporter;
  }

  /** Flushes queued exposures; resolves when they are delivered or dropped. */
  async flush(): Promise<void> {
    await this.exporter?.flush();
  }

  /** Flushes within `timeoutMs` and stops the exporter this instrumentation created. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    await this.state.ownExporter?.shutdown({ timeoutMs });
  }

  private patchSdk(exports: SdkModule): SdkModule {
    // ESM namespaces of CJS modules (5.x by `import`) carry the CJS exports on `default`.
    const targets = [exports, exports?.default].filter(
      (t, i, all): t is SdkModule => !!t && typeof t.createInstance === 'function' && all.indexOf(t) === i,
    );
    for (const target of targets) {
      if (this.isWrappedFn(target.createInstance)) continue;
      this._wrap(target, 'createInstance', (original) => this.wrapCreateInstance(original as CreateInstance, exports));
    }
    return exports;
  }

  private unpatchSdk(exports: SdkModule): void {
    for (const target of [exports, exports?.default]) {
      if (target && this.isWrappedFn(target.createInstance)) this._unwrap(target, 'createInstance');
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

  private isWrappedFn(fn: unknown): boolean {
    return typeof fn === 'function' && (fn as { __wrapped?: boolean }).__wrapped === true;
  }

  private decisionHandler(): DecisionHandler {
    const state = this.state;
    state.handler ??= new DecisionHandler(
      this.getConfig(),
      this.getConfig().exporter ?? this.createExporter(),
      () => this.tracer,
    );
    return state.handler;
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
    try {
      state.ownExporter = new MixpanelExporter({
        ...(config.apiHost ? { apiHost: config.apiHost } : {}),
        ...(config.region ? { region: config.region } : {}),
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
      return typeof createInstance === 'function' && !this.isWrappedFn(createInstance);
    });
    if (!early) return;
    state.warnedEarly = true;
    diag.warn(
      `${SDK} was loaded before ${PACKAGE_NAME} was enabled: clients created before now get no Mixpanel exposures. ` +
        `Start the app with \`node --require ${PACKAGE_NAME}/register\` (or --import for ESM), enable the instrumentation ` +
        'before requiring the SDK, or call instrumentation.instrumentClient(client).',
    );
  }
}
