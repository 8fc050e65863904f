/** Options of {@link ExposureDeduplicator}. */
export interface DeduplicatorOptions {
  /** How long an exported exposure suppresses identical ones, in ms. Default 30 minutes. */
  windowMs?: number;
  /** Most (user, flag) entries kept; the least recently seen are evicted beyond it. Default 100 000. */
  maxEntries?: number;
  /**
   * Seed of the key hash. Default: random per instance, so nobody can choose
   * user ids that collide with another user's key.
   */
  seed?: number;
}

/**
 * Slots of four int32: the two halves of the 64-bit key hash of (flag, user),
 * the id of the (rule, variation) pair exported last, and when (seconds since
 * the deduplicator's origin). A value id of 0 marks an empty slot.
 */
const STRIDE = 4;
const MIN_SLOTS = 64;
/** Distinct (rule, variation) pairs and flag keys held before the memory starts over (datafiles have far fewer). */
const MAX_INTERNED = 1 << 16;

/** An open-addressing table with linear probing, at most half full. */
class Table {
  slots: Int32Array;
  mask: number;
  /** Entries held. */
  count = 0;

  constructor(slotCount: number) {
    this.slots = new Int32Array(slotCount * STRIDE);
    this.mask = slotCount - 1;
  }

  get slotCount(): number {
    return this.mask + 1;
  }

  /** The slot's offset in `slots`, or -1. */
  find(k1: number, k2: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = k1 & mask; ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      if (slots[at + 2] === 0) return -1;
      if (slots[at] === k1 && slots[at + 1] === k2) return at;
    }
  }

  /** Adds a key known to be absent; the caller keeps the table at most half full. */
  add(k1: number, k2: number, value: number, time: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = k1 & mask;
    while (slots[i * STRIDE + 2] !== 0) i = (i + 1) & mask;
    const at = i * STRIDE;
    slots[at] = k1;
    slots[at + 1] = k2;
    slots[at + 2] = value;
    slots[at + 3] = time;
    this.count++;
  }

  /** Removes the entry at offset `at`, shifting later entries of its probe run back (no tombstones). */
  remove(at: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let hole = at / STRIDE;
    for (let j = (hole + 1) & mask; slots[j * STRIDE + 2] !== 0; j = (j + 1) & mask) {
      const home = (slots[j * STRIDE] as number) & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      slots.copyWithin(hole * STRIDE, j * STRIDE, j * STRIDE + STRIDE);
      hole = j;
    }
    slots.fill(0, hole * STRIDE, hole * STRIDE + STRIDE);
    this.count--;
  }

  /** Empties the table, keeping its memory. */
  clear(): void {
    this.slots.fill(0);
    this.count = 0;
  }

  /** Doubles the slot count, placing every entry again. */
  grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    this.count = 0;
    for (let at = 0; at < old.length; at += STRIDE) {
      if (old[at + 2] !== 0)
        this.add(old[at] as number, old[at + 1] as number, old[at + 2] as number, old[at + 3] as number);
    }
  }
}

/** Two 32-bit hash lanes of a flag key, the starting state of its users' key hashes. */
interface FlagState {
  a: number;
  b: number;
}

/**
 * Remembers, per user and flag, the last exposure exported, within a time
 * window and an entry cap. A decision is a duplicate when the same user got
 * the same rule and variation for the flag less than `windowMs` ago; any change
 * is a new exposure (so the profile property follows the user back and forth).
 *
 * Entries are 16 bytes in typed arrays, not strings: a 64-bit hash of (flag,
 * user), the exact (rule, variation) pair by id, and the export time in seconds.
 * Two different (flag, user) pairs share a key with probability 2^-64, so a
 * genuine new exposure is mistaken for a duplicate with probability at most
 * (entries held) / 2^64 (below 10^-13 at a million entries); the seed is random
 * per instance, so colliding ids cannot be chosen. A change of rule or
 * variation is always seen: those are compared exactly.
 *
 * Eviction is least-recently-used by generations (the hashlru scheme): entries
 * live in a current and a previous table of at most half the cap each; an entry
 * seen again while in the previous one moves to the current one, and when the
 * current one fills up the previous one is dropped whole (its memory is reused).
 */
export class ExposureDeduplicator {
  readonly windowMs: number;
  readonly maxEntries: number;
  private readonly generationSize: number;
  private readonly maxSlots: number;
  private current: Table;
  private previous: Table;
  /** Entries of `previous` that also stand in `current` (moved, not evicted, when `previous` is dropped). */
  private promoted = 0;
  private evictedCount = 0;
  private readonly originMs: number;
  private seed: number;
  private flags = new Map<string, FlagState>();
  /** (rule, variation) pair ids, by rule key then variation key: lookups reuse the SDK's strings' cached hashes. */
  private pairIds = new Map<string, Map<string, number>>();
  /** Rule and variation key of each pair id (index 0 unused). */
  private pairs: Array<[string, string]> = [['', '']];
  // The last flag and pair looked up: a decision usually repeats them, and comparing the SDK's
  // own string objects is cheaper than a Map lookup.
  private lastFlagKey: string | undefined;
  private lastFlag: FlagState = { a: 0, b: 0 };
  private lastRule: string | undefined;
  private lastVariation: string | undefined;
  private lastPair = 0;
  // The pair before it: an A/B test's users alternate between two.
  private otherRule: string | undefined;
  private otherVariation: string | undefined;
  private otherPair = 0;
  private lastKeyUser: string | undefined;
  /** The key hash of the last lookup: fields, not a pair allocated per decision. */
  private keyHigh = 0;
  private keyLow = 0;

  constructor(options: DeduplicatorOptions = {}, nowMs: number = Date.now()) {
    this.windowMs = positiveOr(options.windowMs, 30 * 60 * 1000);
    this.maxEntries = Math.max(2, Math.floor(positiveOr(options.maxEntries, 100_000)));
    this.generationSize = Math.floor(this.maxEntries / 2);
    // At most half full: probe runs stay short.
    this.maxSlots = Math.max(MIN_SLOTS, nextPowerOfTwo(this.generationSize * 2));
    this.current = new Table(Math.min(MIN_SLOTS, this.maxSlots));
    this.previous = new Table(MIN_SLOTS);
    this.originMs = nowMs;
    this.seed = typeof options.seed === 'number' ? options.seed | 0 : (Math.random() * 0x100000000) | 0;
  }

  /**
   * Returns true when this user got this rule and variation for this flag less
   * than `windowMs` before `nowMs` (a duplicate). Otherwise records it as
   * exported at `nowMs` and returns false. A duplicate refreshes recency but
   * not the window, so a user decided every minute is exported once per window.
   */
  seen(distinctId: string, flagKey: string, ruleKey: string, variationKey: string, nowMs: number): boolean {
    const nowS = Math.floor((nowMs - this.originMs) / 1000);
    const pair = this.pairId(ruleKey, variationKey);
    this.keyOf(flagKey, distinctId);
    return this.record(this.keyHigh, this.keyLow, pair, nowS);
  }

  /**
   * {@link seen} for a duplicate, with the same effect (recency refreshed);
   * false, recording nothing, for anything else: a caller can answer a
   * repeated decision before validating it, since only valid exposures are
   * ever recorded.
   */
  repeated(distinctId: string, flagKey: string, ruleKey: string, variationKey: string, nowMs: number): boolean {
    // Unknown pairs are not interned here: the decision may be invalid.
    let pair = this.recentPair(ruleKey, variationKey);
    if (pair === 0) {
      const known = this.pairIds.get(ruleKey)?.get(variationKey);
      if (known === undefined) return false;
      this.remember(ruleKey, variationKey, known);
      pair = known;
    }
    const nowS = Math.floor((nowMs - this.originMs) / 1000);
    this.keyOf(flagKey, distinctId);
    const at = this.current.find(this.keyHigh, this.keyLow);
    if (at >= 0) return this.same(this.current.slots, at, pair, nowS);
    const old = this.previous.find(this.keyHigh, this.keyLow);
    if (old < 0 || !this.same(this.previous.slots, old, pair, nowS)) return false;
    // Seen again while in the previous generation: it moves to the current one, window unchanged.
    this.promoted++;
    this.insert(this.keyHigh, this.keyLow, pair, this.previous.slots[old + 3] as number);
    return true;
  }

  /** Forgets the user's entry for the flag, so the next decision is exported again. */
  forget(distinctId: string, flagKey: string): void {
    this.keyOf(flagKey, distinctId);
    const inCurrent = this.current.find(this.keyHigh, this.keyLow);
    const inPrevious = this.previous.find(this.keyHigh, this.keyLow);
    if (inCurrent >= 0) this.current.remove(inCurrent);
    if (inPrevious >= 0) this.previous.remove(inPrevious);
    if (inCurrent >= 0 && inPrevious >= 0) this.promoted--;
  }

  /** Distinct (user, flag) entries held now (at most `maxEntries`). */
  get size(): number {
    return this.current.count + this.previous.count - this.promoted;
  }

  /** Entries evicted by the cap since creation (each may cause one repeated export). */
  get evictions(): number {
    return this.evictedCount;
  }

  private record(k1: number, k2: number, pair: number, nowS: number): boolean {
    const current = this.current;
    const at = current.find(k1, k2);
    const slots = current.slots;
    if (at >= 0) {
      if (this.same(slots, at, pair, nowS)) return true;
      slots[at + 2] = pair;
      slots[at + 3] = nowS;
      return false;
    }
    const previous = this.previous;
    const old = previous.find(k1, k2);
    if (old < 0) {
      this.insert(k1, k2, pair, nowS);
      return false;
    }
    // Seen again while in the previous generation: it moves to the current one, window unchanged.
    this.promoted++;
    const duplicate = this.same(previous.slots, old, pair, nowS);
    this.insert(k1, k2, pair, duplicate ? (previous.slots[old + 3] as number) : nowS);
    return duplicate;
  }

  private same(slots: Int32Array, at: number, pair: number, nowS: number): boolean {
    return slots[at + 2] === pair && (nowS - (slots[at + 3] as number)) * 1000 < this.windowMs;
  }

  private insert(k1: number, k2: number, pair: number, nowS: number): void {
    let current = this.current;
    if (current.count >= this.generationSize) {
      // The previous generation goes, save what was promoted out of it; its memory becomes the new current one.
      this.evictedCount += this.previous.count - this.promoted;
      const reused = this.previous;
      this.previous = current;
      if (reused.slotCount === this.maxSlots) reused.clear();
      this.current = current =
        reused.slotCount === this.maxSlots ? reused : new Table(Math.min(MIN_SLOTS, this.maxSlots));
      this.promoted = 0;
    }
    if ((current.count + 1) * 2 > current.slotCount && current.slotCount < this.maxSlots) current.grow();
    current.add(k1, k2, pair, nowS);
  }

  /** Sets `this.keyHigh`/`this.keyLow` to the 64-bit hash of (flag, user). */
  private keyOf(flagKey: string, distinctId: string): void {
    // repeated() then seen() for one first exposure: hashed once.
    if (distinctId === this.lastKeyUser && flagKey === this.lastFlagKey) return;
    this.lastKeyUser = distinctId;
    const flag = flagKey === this.lastFlagKey ? this.lastFlag : this.flagState(flagKey);
    // cyrb53's two lanes, continued from the flag's state, with both 32-bit halves kept.
    let a = flag.a;
    let b = flag.b;
    const n = distinctId.length;
    let i = 0;
    // Two UTF-16 units per step: half the multiplications of one at a time.
    for (; i + 1 < n; i += 2) {
      const c = distinctId.charCodeAt(i) | (distinctId.charCodeAt(i + 1) << 16);
      a = Math.imul(a ^ c, 2654435761);
      b = Math.imul(b ^ c, 1597334677);
    }
    if (i < n) {
      const c = distinctId.charCodeAt(i);
      a = Math.imul(a ^ c, 2654435761);
      b = Math.imul(b ^ c, 1597334677);
    }
    a ^= n;
    a = Math.imul(a ^ (a >>> 16), 2246822507);
    a ^= Math.imul(b ^ (b >>> 13), 3266489909);
    b = Math.imul(b ^ (b >>> 16), 2246822507);
    b ^= Math.imul(a ^ (a >>> 13), 3266489909);
    this.keyHigh = b | 0;
    this.keyLow = a | 0;
  }

  private flagState(flagKey: string): FlagState {
    let flag = this.flags.get(flagKey);
    if (flag === undefined) {
      flag = flagState(flagKey, this.seed);
      // Flag keys come from the datafile; the cap only guards against hostile input (the state is recomputable).
      if (this.flags.size >= MAX_INTERNED) this.flags.clear();
      this.flags.set(flagKey, flag);
    }
    this.lastFlagKey = flagKey;
    this.lastFlag = flag;
    return flag;
  }

  /** The exact id of a (rule, variation) pair, from 1. */
  private pairId(ruleKey: string, variationKey: string): number {
    const recent = this.recentPair(ruleKey, variationKey);
    if (recent !== 0) return recent;
    const id = this.lookUpPair(ruleKey, variationKey);
    this.remember(ruleKey, variationKey, id);
    return id;
  }

  /** The id of one of the last two pairs looked up, compared by their strings; 0 for any other. */
  private recentPair(ruleKey: string, variationKey: string): number {
    if (ruleKey === this.lastRule && variationKey === this.lastVariation) return this.lastPair;
    if (ruleKey === this.otherRule && variationKey === this.otherVariation) return this.otherPair;
    return 0;
  }

  private remember(ruleKey: string, variationKey: string, id: number): void {
    this.otherRule = this.lastRule;
    this.otherVariation = this.lastVariation;
    this.otherPair = this.lastPair;
    this.lastRule = ruleKey;
    this.lastVariation = variationKey;
    this.lastPair = id;
  }

  private lookUpPair(ruleKey: string, variationKey: string): number {
    let byVariation = this.pairIds.get(ruleKey);
    let id = byVariation?.get(variationKey);
    if (id !== undefined) return id;
    if (this.pairs.length > MAX_INTERNED) this.startOver();
    byVariation = this.pairIds.get(ruleKey);
    if (byVariation === undefined) {
      byVariation = new Map();
      this.pairIds.set(ruleKey, byVariation);
    }
    id = this.pairs.length;
    this.pairs.push([ruleKey, variationKey]);
    byVariation.set(variationKey, id);
    return id;
  }

  /** Forgets everything (counted as evicted), so ids can be given out again: only hostile input gets here. */
  private startOver(): void {
    this.evictedCount += this.size;
    this.current = new Table(Math.min(MIN_SLOTS, this.maxSlots));
    this.previous = new Table(MIN_SLOTS);
    this.promoted = 0;
    this.pairIds = new Map();
    this.pairs = [['', '']];
    this.lastRule = undefined;
    this.lastVariation = undefined;
    this.otherRule = undefined;
    this.otherVariation = undefined;
  }
}

/** The hash state after the flag key and a separator, for {@link ExposureDeduplicator.keyOf}. */
function flagState(flagKey: string, seed: number): FlagState {
  let a = 0xdeadbeef ^ seed;
  let b = 0x41c6ce57 ^ seed;
  for (let i = 0; i <= flagKey.length; i++) {
    // The flag key's length, past every char code, ends it: ('ab', 'c') and ('a', 'bc') differ.
    const c = i < flagKey.length ? flagKey.charCodeAt(i) : 0x10000 + flagKey.length;
    a = Math.imul(a ^ c, 2654435761);
    b = Math.imul(b ^ c, 1597334677);
  }
  return { a, b };
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
