import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { RecordQueue, RecordType } from './record-queue.js';
import * as semconv from './semconv.js';
import { DROP_REASONS, type DropReason, type ExporterStats } from './types.js';

const RECORD_TYPE_LABELS: Record<RecordType, string> = { event: 'events', profile: 'profile updates' };

function noDrops(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}

const RECORD_TYPE_ATTRIBUTES: Record<RecordType, Attributes> = {
  event: { [semconv.ATTR_MIXPANEL_RECORD_TYPE]: 'event' },
  profile: { [semconv.ATTR_MIXPANEL_RECORD_TYPE]: 'profile' },
};

/**
 * Where every record ends: counted in `stats()` and in metrics as queued,
 * retried, exported or dropped with a reason. Drops are also logged, at most
 * once per reason every 10 s.
 */
export class Accounting {
  readonly counts: ExporterStats;
  readonly instruments: {
    exported: Counter;
    retried: Counter;
    dropped: Counter;
    skipped: Counter;
    duration: Histogram;
  };
  private readonly skipAttributes = new Map<string, Attributes>();
  private readonly queuedByType: Record<RecordType, number> = { event: 0, profile: 0 };

  constructor(
    meter: Meter,
    private readonly queues: readonly RecordQueue[],
    private readonly log: RateLimitedLog,
    /** Called after records settle, so flush() waiters can resolve. */
    private readonly onSettle: () => void,
  ) {
    this.instruments = {
      exported: meter.createCounter(semconv.METRIC_RECORDS_EXPORTED, { description: 'Records Mixpanel accepted' }),
      retried: meter.createCounter(semconv.METRIC_RECORDS_RETRIED, {
        description: 'Records sent again after a failure',
      }),
      dropped: meter.createCounter(semconv.METRIC_RECORDS_DROPPED, {
        description: 'Records given up on, by mixpanel.drop.reason',
      }),
      skipped: meter.createCounter(semconv.METRIC_EXPOSURES_SKIPPED, {
        description: 'Decisions not exported, by optimizely.skip.reason (duplicate, no_rule, ...)',
      }),
      duration: meter.createHistogram(semconv.METRIC_REQUEST_DURATION, {
        description: 'Duration of requests to Mixpanel',
        unit: 's',
      }),
    };
    // Queued inside decide(): counted as plain numbers, observed when metrics are collected.
    meter
      .createObservableCounter(semconv.METRIC_RECORDS_QUEUED, { description: 'Records queued for Mixpanel' })
      .addCallback((result) => {
        for (const type of ['event', 'profile'] as const)
          result.observe(this.queuedByType[type], RECORD_TYPE_ATTRIBUTES[type]);
      });
    meter
      .createObservableGauge(semconv.METRIC_QUEUE_SIZE, { description: 'Records waiting or in flight' })
      .addCallback((result) => {
        for (const q of this.queues) result.observe(q.pending, RECORD_TYPE_ATTRIBUTES[q.recordType]);
      });
    this.counts = {
      queued: 0,
      exported: 0,
      retried: 0,
      dropped: noDrops(),
      droppedByRecordType: { event: noDrops(), profile: noDrops() },
      skipped: {},
      pending: 0,
      requests: 0,
      spooled: 0,
      replayed: 0,
    };
  }

  /** Records `count` records of `q` as done for now: written to the spool, to be sent later. */
  spooled(q: RecordQueue, count: number): void {
    if (count <= 0) return;
    q.settled += count;
    this.counts.spooled += count;
    this.onSettle();
  }

  /** Counts records read back from the spool (they are queued again). */
  replayed(count: number): void {
    this.counts.replayed += count;
  }

  queued(q: RecordQueue): void {
    this.counts.queued++;
    this.queuedByType[q.recordType]++;
  }

  retried(q: RecordQueue, count: number): void {
    this.counts.retried += count;
    this.instruments.retried.add(count, RECORD_TYPE_ATTRIBUTES[q.recordType]);
  }

  request(durationSeconds: number, attributes: Attributes): void {
    this.counts.requests++;
    this.instruments.duration.record(durationSeconds, attributes);
  }

  /** Records `count` records of `q` as done: exported when no reason is given, else dropped. */
  settle(q: RecordQueue, count: number, reason?: DropReason): void {
    if (count <= 0) return;
    q.settled += count;
    const attributes = RECORD_TYPE_ATTRIBUTES[q.recordType];
    if (reason === undefined) {
      this.counts.exported += count;
      this.instruments.exported.add(count, attributes);
    } else {
      this.counts.dropped[reason] += count;
      this.counts.droppedByRecordType[q.recordType][reason] += count;
      this.instruments.dropped.add(count, { ...attributes, [semconv.ATTR_MIXPANEL_DROP_REASON]: reason });
      this.logDrop(reason, count, q);
    }
    this.onSettle();
  }

  /** Counts a decision the caller did not export. */
  skipped(reason: string): void {
    // Called inside decide() for every repeated decision: no allocation once a reason was seen.
    let attributes = this.skipAttributes.get(reason);
    if (!attributes) {
      attributes = { [semconv.ATTR_OPTIMIZELY_SKIP_REASON]: reason };
      if (this.skipAttributes.size < 64) this.skipAttributes.set(reason, attributes);
    }
    this.counts.skipped[reason] = (this.counts.skipped[reason] ?? 0) + 1;
    this.instruments.skipped.add(1, attributes);
  }

  stats(): ExporterStats {
    return {
      ...this.counts,
      dropped: { ...this.counts.dropped },
      droppedByRecordType: {
        event: { ...this.counts.droppedByRecordType.event },
        profile: { ...this.counts.droppedByRecordType.profile },
      },
      skipped: { ...this.counts.skipped },
      pending: this.queues.reduce((n, q) => n + q.pending, 0),
    };
  }

  /**
   * What was not delivered, by record type and reason, every non-zero one
   * named; undefined when nothing was dropped.
   */
  dropReport(): string | undefined {
    const parts: string[] = [];
    let total = 0;
    for (const type of ['event', 'profile'] as const) {
      const reasons = Object.entries(this.counts.droppedByRecordType[type]).filter(([, n]) => n > 0);
      if (reasons.length === 0) continue;
      total += reasons.reduce((n, [, count]) => n + count, 0);
      parts.push(`${RECORD_TYPE_LABELS[type]}: ${reasons.map(([reason, n]) => `${reason} ${n}`).join(', ')}`);
    }
    return total > 0 ? `${total} Mixpanel record(s) not delivered (${parts.join('; ')})` : undefined;
  }

  /** Drops are logged at most once per reason and record type every 10 s. */
  private logDrop(reason: DropReason, count: number, q: RecordQueue): void {
    this.log.warn(
      `drop:${q.recordType}:${reason}`,
      `dropped ${count} ${q.recordType} record(s) for ${q.endpoint}: ${reason} (total ${this.counts.droppedByRecordType[q.recordType][reason]})`,
    );
  }
}
