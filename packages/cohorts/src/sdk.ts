import { isWrapped, safeExecuteInTheMiddle } from '@opentelemetry/instrumentation';

/** The part of an Optimizely user context (5.x and 6.x) this module touches. */
interface UserContextLike {
  qualifiedSegments: string[] | null;
  getUserId?: () => string;
}

const OURS = Symbol.for('optimizely-mixpanel.cohort-segments');
type Qualified = UserContextLike & { [OURS]?: readonly string[] };

const accessors = new WeakMap<object, PropertyDescriptor | null>();

/** The SDK's own `qualifiedSegments` accessor, found on the prototype chain (cached per prototype). */
function sdkAccessor(context: object): PropertyDescriptor | undefined {
  const proto = Object.getPrototypeOf(context) as object | null;
  if (!proto) return undefined;
  let found = accessors.get(proto);
  if (found === undefined) {
    found = null;
    for (let p: object | null = proto; p; p = Object.getPrototypeOf(p)) {
      const d = Object.getOwnPropertyDescriptor(p, 'qualifiedSegments');
      if (d) {
        found = d.get && d.set ? d : null;
        break;
      }
    }
    accessors.set(proto, found);
  }
  return found ?? undefined;
}

function merge(app: unknown, ours: readonly string[]): string[] {
  if (!Array.isArray(app) || app.length === 0) return ours.slice();
  const merged = app.slice() as string[];
  for (const s of ours) if (!merged.includes(s)) merged.push(s);
  return merged;
}

// One getter and one setter for every context: contexts keep sharing a hidden class.
function getSegments(this: Qualified): string[] | null {
  return sdkAccessor(this)?.get?.call(this) ?? null;
}
function setSegments(this: Qualified, value: string[] | null): void {
  sdkAccessor(this)?.set?.call(this, merge(value, this[OURS] ?? []));
}

/**
 * Adds `segments` to a user context's `qualifiedSegments`, and keeps them there:
 * a later `user.qualifiedSegments = [...]` by the application, or an ODP
 * `fetchQualifiedSegments()`, is merged with them instead of replacing them.
 */
export function qualifyUserContext(context: unknown, segments: readonly string[]): void {
  if (!context || typeof context !== 'object' || segments.length === 0) return;
  const user = context as Qualified;
  const accessor = sdkAccessor(user);
  if (!accessor) {
    // An SDK with a plain field: merge once.
    user.qualifiedSegments = merge(user.qualifiedSegments, segments);
    return;
  }
  user[OURS] = segments;
  accessor.set?.call(user, merge(accessor.get?.call(user), segments));
  Object.defineProperty(user, 'qualifiedSegments', {
    configurable: true,
    enumerable: false,
    get: getSegments,
    set: setSegments,
  });
}

/** The Mixpanel segments {@link qualifyUserContext} gave a user context, if any. */
export function cohortSegmentsOf(context: unknown): readonly string[] | undefined {
  return context && typeof context === 'object' ? (context as Qualified)[OURS] : undefined;
}

type CreateUserContext = (this: unknown, ...args: unknown[]) => unknown;

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
  if (isWrapped(original)) return true;
  const wrapped = function createUserContext(this: unknown, ...args: unknown[]) {
    const context = original.apply(this, args);
    if (context) {
      safeExecuteInTheMiddle(
        () => {
          const userId = typeof args[0] === 'string' ? args[0] : (context as UserContextLike).getUserId?.();
          const segments = typeof userId === 'string' ? lookup(userId) : undefined;
          if (segments) qualifyUserContext(context, segments);
        },
        () => {},
        true,
      );
    }
    return context;
  };
  Object.defineProperties(wrapped, {
    __original: { value: original, configurable: true },
    __wrapped: { value: true, configurable: true },
    __unwrap: { value: () => Object.assign(target, { createUserContext: original }), configurable: true },
  });
  target.createUserContext = wrapped;
  return true;
}
