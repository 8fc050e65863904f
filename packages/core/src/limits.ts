/** Mixpanel's 255: characters in a name, UTF-8 bytes in a string value or `distinct_id`. */
const MAX = 255;

/** Mixpanel ingestion limits that the pipeline enforces before anything is sent. */
export const MIXPANEL_LIMITS = {
  /** Property names and event names: at most 255 characters. */
  maxNameLength: 255,
  /** String property values and `distinct_id`: at most 255 bytes (UTF-8). */
  maxStringBytes: 255,
  /** `$insert_id`: at most 36 characters of `[A-Za-z0-9-]`. */
  maxInsertIdLength: 36,
  /** Properties per event. */
  maxPropertiesPerEvent: 255,
} as const;

/**
 * Ids Mixpanel's `/import` rejects as placeholders (compared trimmed and lower-cased).
 * Sending exposures for them would merge unrelated users into one profile.
 */
// The leading space makes the empty string the first.
const PLACEHOLDER_IDS = new Set(
  ' 0 -1 anon anonymous n/a nil <nil> none null undefined unknown true false [] {} lmy47d 00000000-0000-0000-0000-000000000000'.split(
    ' ',
  ),
);

// A cheap first look: most strings have neither NUL nor any surrogate.
const SUSPECT = /[\0\uD800-\uDFFF]/;
// In unicode mode a well-formed pair is one code point outside this class: only lone surrogates match.
const LONE_OR_NUL = /[\0\uD800-\uDFFF]/gu;

/** True when `s` has no NUL and no lone surrogate (so it survives UTF-8 encoding unchanged). */
export function isWellFormed(s: string): boolean {
  if (!SUSPECT.test(s)) return true;
  LONE_OR_NUL.lastIndex = 0;
  return !LONE_OR_NUL.test(s);
}

/** `s` with each lone surrogate replaced by U+FFFD and NULs removed; `s` itself when it is well-formed. */
export function repairUtf16(s: string): string {
  return isWellFormed(s) ? s : s.replace(LONE_OR_NUL, (c) => (c === '\0' ? '' : '\uFFFD'));
}

/**
 * True when `id` is a string Mixpanel accepts as a `distinct_id`: 1 to 255
 * UTF-8 bytes, well-formed, no NUL, not a placeholder. Such ids are refused, not
 * repaired: a changed id would merge or split users.
 */
export function isValidDistinctId(id: unknown): id is string {
  if (typeof id !== 'string') return false;
  const n = id.length;
  // truncateUtf8 returns the id itself when it fits in 255 UTF-8 bytes.
  if (n === 0 || n > MAX || truncateUtf8(id) !== id || !isWellFormed(id)) return false;
  // Runs inside every decide(): a real id of 10+ characters with no blank at either end is
  // decided without allocating (placeholders are at most 9 characters, or the zero UUID).
  if (n > 9 && n !== 36 && id.charCodeAt(0) > 32 && id.charCodeAt(n - 1) > 32) return true;
  return !PLACEHOLDER_IDS.has(id.trim().toLowerCase());
}

let encoder: { encodeInto(s: string, into: Uint8Array): { read?: number } } | undefined;
let buffer: Uint8Array | undefined;

/**
 * Truncates a well-formed `s` to at most 255 UTF-8 bytes without splitting a
 * surrogate pair. Returns `s` itself when it already fits.
 */
export function truncateUtf8(s: string): string {
  if (s.length * 3 <= MAX) return s;
  // encodeInto stops at the last whole code point that fits; only the first 255 bytes are encoded.
  encoder ??= new TextEncoder();
  buffer ??= new Uint8Array(MAX);
  const read = encoder.encodeInto(s, buffer).read ?? s.length;
  return read === s.length ? s : s.slice(0, read);
}

/** A string property value as Mixpanel can take it: repaired UTF-16, at most 255 UTF-8 bytes. */
export function propertyValue(s: string): string {
  return truncateUtf8(repairUtf16(s));
}

/** Truncates a property or event name to Mixpanel's 255-character limit, keeping surrogate pairs whole. */
export function truncateName(s: string): string {
  if (s.length <= MAX) return s;
  // A high surrogate (0xd800-0xdbff) last would be cut from its pair.
  return s.slice(0, s.charCodeAt(MAX - 1) >> 10 === 0x36 ? MAX - 1 : MAX);
}
