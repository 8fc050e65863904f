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
const PLACEHOLDER_IDS = new Set([
  '',
  '0',
  '-1',
  'anon',
  'anonymous',
  'n/a',
  'nil',
  '<nil>',
  'none',
  'null',
  'undefined',
  'unknown',
  'true',
  'false',
  '[]',
  '{}',
  'lmy47d',
  '00000000-0000-0000-0000-000000000000',
]);

// A cheap first look: most strings have neither NUL nor any surrogate.
const SUSPECT = /[\0\uD800-\uDFFF]/;

/** True when `s` has no NUL and no lone surrogate (so it survives UTF-8 encoding unchanged). */
export function isWellFormed(s: string): boolean {
  if (!SUSPECT.test(s)) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** `s` with each lone surrogate replaced by U+FFFD and NULs removed; `s` itself when it is well-formed. */
export function repairUtf16(s: string): string {
  if (isWellFormed(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s.charAt(i) + s.charAt(i + 1);
        i++;
      } else out += '\uFFFD';
    } else out += c >= 0xdc00 && c <= 0xdfff ? '\uFFFD' : s.charAt(i);
  }
  return out;
}

/**
 * True when `id` is a string Mixpanel accepts as a `distinct_id`: 1 to 255
 * UTF-8 bytes, well-formed, no NUL, not a placeholder. Such ids are refused, not
 * repaired: a changed id would merge or split users.
 */
export function isValidDistinctId(id: unknown): id is string {
  if (typeof id !== 'string') return false;
  const n = id.length;
  if (n === 0 || !fitsUtf8(id, MAX) || !isWellFormed(id)) return false;
  // Runs inside every decide(): a real id of 10+ characters with no blank at either end is
  // decided without allocating (placeholders are at most 9 characters, or the zero UUID).
  if (n > 9 && n !== 36 && id.charCodeAt(0) > 32 && id.charCodeAt(n - 1) > 32) return true;
  return !PLACEHOLDER_IDS.has(id.trim().toLowerCase());
}

/** True when `s` is at most `maxBytes` bytes once UTF-8 encoded. */
function fitsUtf8(s: string, maxBytes: number): boolean {
  // Every UTF-16 code unit encodes to at most 3 UTF-8 bytes.
  if (s.length * 3 <= maxBytes) return true;
  if (s.length > maxBytes) return false;
  return utf8Length(s) <= maxBytes;
}

function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Truncates `s` to at most `maxBytes` UTF-8 bytes without splitting a
 * surrogate pair. Returns `s` itself when it already fits.
 */
export function truncateUtf8(s: string, maxBytes: number = MAX): string {
  if (fitsUtf8(s, maxBytes)) return s;
  let bytes = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let size = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
    if (pair) size = 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    if (pair) i++;
  }
  return s.slice(0, i);
}

/** A string property value as Mixpanel can take it: repaired UTF-16, at most 255 UTF-8 bytes. */
export function propertyValue(s: string): string {
  return truncateUtf8(repairUtf16(s));
}

/** Truncates a property or event name to Mixpanel's 255-character limit, keeping surrogate pairs whole. */
export function truncateName(s: string): string {
  if (s.length <= MAX) return s;
  const last = s.charCodeAt(MAX - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX - 1 : MAX);
}
