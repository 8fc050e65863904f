import type { PipelineConfig } from './types.js';

/** `config[option]` when it is one of `allowed`, else the first of them (the default), warned about unless undefined. */
export function oneOf<T extends string>(
  config: PipelineConfig,
  option: 'eventFormat' | 'rollouts',
  allowed: readonly T[],
): T {
  const value = config[option] as T;
  if (allowed.includes(value)) return value;
  if (value !== undefined) config.warn?.(`${invalid(option)} (one of ${allowed.join(', ')})`);
  return allowed[0] as T;
}

/** Names the option, never its value: a misplaced secret must not reach a log. */
export function invalid(option: string): string {
  return `${option} is invalid: its default applies`;
}
