const REDACTED = '[REDACTED]';
const MIN_FORM_LENGTH = 4;

/**
 * The ways a secret can appear in text a server echoes back: as is,
 * URL-encoded, and inside base64 (an `Authorization: Basic` header, a
 * `data=` body) at each of the three byte alignments, standard, URL-safe
 * and URL-encoded. For base64 only the characters that depend on the secret
 * alone are matched, so it is found whatever surrounds it.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret, encodeURIComponent(secret)]);
  const bytes = Buffer.from(secret);
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Character i covers bits [6i, 6i + 6): keep those within the secret's bits [8k, 8(k + n)).
    const core = encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    forms.add(encodeURIComponent(core));
  }
  return [...forms].filter((form) => form.length >= MIN_FORM_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * Replaces every occurrence of the given secrets, in any of their
 * {@link secretForms}, in `text`. Applied to every message this package emits
 * (span events, statuses, diag logs, errors), before any cut, so a server
 * that echoes a token back cannot make us leak it whole or in part.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_FORM_LENGTH) continue;
    for (const form of secretForms(secret)) out = out.split(form).join(REDACTED);
  }
  return out;
}

/** Cuts `text` to `max` characters; cut only text already redacted. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
