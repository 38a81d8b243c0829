/** Where one partition of a `dlq.<tenant>` this member holds is read to, and what it knows of its end. */
interface PartitionState {
  /** The next offset to read: every dead letter before it has been taken. */
  next: bigint;
  /** The partition's end as last seen (high watermark). */
  high: bigint;
  /** The latest record time read, ms. */
  latest: number;
  /** The last offset committed (or found committed). */
  committed: bigint;
}

/** A partition's starting point when it is assigned: its committed offset (or its start) and its end. */
export interface PartitionStart {
  readonly partition: number;
  readonly next: bigint;
  readonly high: bigint;
}

/**
 * The notifier's reading position per `dlq.<tenant>` partition, and from it two answers:
 * up to which time every dead letter of a topic has been read (the watermark that closes
 * windows), and how far a partition may be committed (not past the first dead letter of a
 * window whose notification is not yet delivered or definitively failed). Pure: the
 * consumer feeds it.
 */
export class PartitionPositions {
  private readonly topics = new Map<string, Map<number, PartitionState>>();

  /**
   * The partitions of the new assignment. One held before keeps its position, so records
   * fetched again from the last commit after a rebalance are not counted twice; the others
   * start from where they are committed.
   */
  assign(topic: string, starts: readonly PartitionStart[]): void {
    const held = this.topics.get(topic);
    const next = new Map<number, PartitionState>();
    for (const start of starts) {
      const kept = held?.get(start.partition);
      next.set(start.partition, kept ? { ...kept, high: start.high > kept.high ? start.high : kept.high } : { next: start.next, high: start.high, latest: Number.NEGATIVE_INFINITY, committed: start.next });
    }
    this.topics.set(topic, next);
  }

  /** Forgets a topic no longer held. */
  revoke(topic: string): void {
    this.topics.delete(topic);
  }

  held(): string[] {
    return [...this.topics.keys()];
  }

  partitions(topic: string): number[] {
    return [...(this.topics.get(topic)?.keys() ?? [])];
  }

  /** Takes a record; false when it was taken before (fetched again after a rebalance) or the partition isn't held. */
  read(topic: string, partition: number, offset: bigint, timestamp: number): boolean {
    const state = this.topics.get(topic)?.get(partition);
    if (!state || offset < state.next) return false;
    state.next = offset + 1n;
    if (timestamp > state.latest) state.latest = timestamp;
    if (state.next > state.high) state.high = state.next;
    return true;
  }

  /** A fetched batch's end: the partition's high watermark. */
  seenEnd(topic: string, partition: number, high: bigint): void {
    const state = this.topics.get(topic)?.get(partition);
    if (state && high > state.high) state.high = high;
  }

  /**
   * The time up to which every dead letter of `topic` has been read: per partition, `fetchedAt`
   * (the last fetch that answered) when it is read to its end, else the latest record time
   * read; the earliest over its partitions, less `latenessMs` for records written a little
   * after their timestamp. Dead letters are timestamped when the processor produces them, so
   * a partition's times grow with its offsets (to within the processors' clock skew).
   */
  watermark(topic: string, fetchedAt: number, latenessMs: number): number {
    const partitions = this.topics.get(topic);
    if (!partitions || partitions.size === 0) return Number.NEGATIVE_INFINITY;
    let mark = Number.POSITIVE_INFINITY;
    for (const state of partitions.values()) mark = Math.min(mark, state.next >= state.high ? fetchedAt : state.latest);
    return mark - latenessMs;
  }

  /** Records not yet read, per partition (the consumer lag). */
  lag(topic: string): Array<{ partition: number; lag: bigint }> {
    return [...(this.topics.get(topic) ?? [])].map(([partition, s]) => ({ partition, lag: s.high > s.next ? s.high - s.next : 0n }));
  }

  /**
   * The offset to commit for a partition, when it moved: the next to read, or the lowest
   * offset still `held` by a window or notification not yet settled, whichever is lower.
   */
  toCommit(topic: string, partition: number, held: bigint | undefined): bigint | undefined {
    const state = this.topics.get(topic)?.get(partition);
    if (!state) return undefined;
    const offset = held !== undefined && held < state.next ? held : state.next;
    return offset > state.committed ? offset : undefined;
  }

  /** The commit of `offset` went through. */
  committed(topic: string, partition: number, offset: bigint): void {
    const state = this.topics.get(topic)?.get(partition);
    if (state && offset > state.committed) state.committed = offset;
  }
}
