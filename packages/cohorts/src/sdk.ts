/** The part of an Optimizely user context (5.x and 6.x) this module touches. */
interface UserContextLike {
  qualifiedSegments: string[] | null;
  getUserId?: () => string;
}

const OURS = Symbol.for('optimizely-mixpanel.cohort-segments');
const PATCHED = Symbol.for('optimizely-mixpanel.cohort-segments.patched');
type Qualified = UserContextLike & { [OURS]?: readonly string[] };

/** Prototypes whose `qualifiedSegments` accessor merges (or that have none to patch). */
const prepared = new WeakMap<object, boolean>();

function merge(app: unknown, ours: readonly string[]): string[] {
  if (!Array.isArray(app) || app.length === 0) return ours.slice();
  const merged = app.slice() as string[];
  for (const s of ours) if (!merged.includes(s)) merged.push(s);
  return merged;
}

/**
 * Makes the SDK's `qualifiedSegments` setter (on the user context prototype)
 * merge a context's cohort segments into whatever is assigned, once per
 * prototype. Contexts without cohort segments behave exactly as before.
 * Returns whether the prototype has such an accessor.
 */
function prepare(context: object): boolean {
  const proto = Object.getPrototypeOf(context) as object | null;
  if (!proto) return false;
  const known = prepared.get(proto);
  if (known !== undefined) return known;
  let owner: object | null = proto;
  let descriptor: PropertyDescriptor | undefined;
  while (owner && !descriptor) {
    descriptor = Object.getOwnPropertyDescriptor(owner, 'qualifiedSegments');
    if (!descriptor) owner = Object.getPrototypeOf(owner) as object | null;
  }
  const usable = !!owner && !!descriptor?.get && !!descriptor.set && descriptor.configurable === true;
  if (usable && owner && descriptor && !(descriptor.set as { [PATCHED]?: boolean })[PATCHED]) {
    const originalSet = descriptor.set as (this: unknown, value: unknown) => void;
    const set = function (this: Qualified, value: string[] | null) {
      const ours = this[OURS];
      originalSet.call(this, ours ? merge(value, ours) : value);
    };
    Object.defineProperty(set, PATCHED, { value: true });
    Object.defineProperty(owner, 'qualifiedSegments', { ...descriptor, set });
  }
  prepared.set(proto, usable);
  return usable;
}

/**
 * Adds `segments` to a user context's `qualifiedSegments`, and keeps them there:
 * a later `user.qualifiedSegments = [...]` by the application, or an ODP
 * `fetchQualifiedSegments()`, is merged with them instead of replacing them.
 */
export function qualifyUserContext(context: unknown, segments: readonly string[]): void {
  if (!context || typeof context !== 'object' || segments.length === 0) return;
  const user = context as Qualified;
  if (prepare(user)) {
    user[OURS] = segments;
    const current = user.qualifiedSegments;
    user.qualifiedSegments = current; // the patched setter merges ours in
  } else {
    // An SDK with a plain field: merge once.
    user.qualifiedSegments = merge(user.qualifiedSegments, segments);
  }
}

/** The Mixpanel segments {@link qualifyUserContext} gave a user context, if any. */
export function cohortSegmentsOf(context: unknown): readonly string[] | undefined {
  return context && typeof context === 'object' ? (context as Qualified)[OURS] : undefined;
}

type CreateUserContext = (this: unknown, userId?: unknown, attributes?: unknown) => unknown;

/**
 * Wraps `createUserContext` on one Optimizely client (5.x or 6.x) so that each
 * new user context is qualified for the segments `lookup` returns for its user
 * id. The lookup must be synchronous and cheap (a {@link CohortReplica}). The
 * application's call behaves exactly as before if anything here fails.
 * Returns false when the client has no `createUserContext`. Idempotent.
 */
export function instrumentUserContexts(
  client: unknown,
  lookup: (userId: string) => readonly string[] | undefined,
): boolean {
  if (!client || typeof client !== 'object') return false;
  const target = client as { createUserContext?: CreateUserContext };
  const original = target.createUserContext;
  if (typeof original !== 'function') return false;
  if ((original as { __wrapped?: boolean }).__wrapped === true) return true;
  // On the hot path of every request: a plain try/catch, no closures per call.
  const wrapped = function createUserContext(this: unknown, userId?: unknown, attributes?: unknown) {
    // biome-ignore lint/complexity/noArguments: forwards exactly what the application passed.
    const context = original.apply(this, arguments as unknown as [unknown, unknown]);
    if (context) {
      try {
        const id = typeof userId === 'string' ? userId : (context as UserContextLike).getUserId?.();
        const segments = typeof id === 'string' ? lookup(id) : undefined;
        if (segments !== undefined) qualifyUserContext(context, segments);
      } catch {
        // the context is returned as the SDK made it
      }
    }
    void attributes;
    return context;
  };
  // The markers shimmer and @opentelemetry/instrumentation's isWrapped() read.
  Object.defineProperties(wrapped, {
    __original: { value: original, configurable: true },
    __wrapped: { value: true, configurable: true },
    __unwrap: {
      value: () => {
        if (target.createUserContext === wrapped) target.createUserContext = original;
      },
      configurable: true,
    },
  });
  target.createUserContext = wrapped;
  return true;
}
