/**
 * Replaces every occurrence of the given secrets in `text`. Applied to every
 * message this package emits (span events, statuses, diag logs, errors), so a
 * server that echoes a token back cannot make us leak it.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  }
  return out;
}
