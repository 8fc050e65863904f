/** Entries a memo holds before it starts over: datafiles have far fewer keys; only hostile input gets here. */
const MAX_ENTRIES = 10_000;

/**
 * Values remembered by two datafile strings (flag, rule, variation keys,
 * property names), in nested maps so lookups reuse the strings' cached
 * hashes instead of building a joined key per decision.
 */
export class PairMemo<V> {
  private readonly byFirst = new Map<string, Map<string, V>>();
  private count = 0;

  get(first: string, second: string): V | undefined {
    return this.byFirst.get(first)?.get(second);
  }

  set(first: string, second: string, value: V): void {
    if (this.count >= MAX_ENTRIES) {
      this.byFirst.clear();
      this.count = 0;
    }
    let bySecond = this.byFirst.get(first);
    if (bySecond === undefined) {
      bySecond = new Map();
      this.byFirst.set(first, bySecond);
    }
    if (!bySecond.has(second)) this.count++;
    bySecond.set(second, value);
  }
}
