/**
 * Which offset of one partition may be committed: only one past the last record of an
 * unbroken run of acknowledged records (written to Elasticsearch or dead-lettered). Records
 * finish out of order — bulks of different sizes, retries — so a later record being done
 * never lets the commit jump over an earlier one still in flight.
 */
export class PartitionProgress {
  /** Offsets begun and not yet passed by the commit point, in order. */
  private readonly queue: number[] = [];
  private readonly done = new Set<number>();
  /** The offset a commit would store: the next record to read after a restart. */
  private next: number;
  private committed: number;

  /** `from`: the first offset this consumer will be handed (the committed offset). */
  constructor(from: string | number) {
    this.next = Number(from);
    this.committed = this.next;
  }

  /** A record was handed to processing. Offsets must come in increasing order. */
  begin(offset: string | number): void {
    const value = Number(offset);
    const last = this.queue[this.queue.length - 1];
    if ((last !== undefined && value <= last) || value < this.next) throw new Error(`offset ${value} begun out of order`);
    this.queue.push(value);
  }

  /** A record was acknowledged; moves the commit point over every finished record at the head. */
  complete(offset: string | number): void {
    this.done.add(Number(offset));
    while (this.queue.length > 0 && this.done.has(this.queue[0] as number)) {
      const head = this.queue.shift() as number;
      this.done.delete(head);
      this.next = head + 1;
    }
  }

  /**
   * The end of a fetched batch: offsets up to `lastOffset` that were never handed out
   * (compacted away, transaction markers) need no work, so the commit may pass them once
   * nothing before them is pending.
   */
  passed(lastOffset: string | number): void {
    const value = Number(lastOffset) + 1;
    if (this.queue.length === 0 && value > this.next) this.next = value;
  }

  /** The offset to commit now, or undefined if it hasn't moved since the last commit. */
  committable(): string | undefined {
    return this.next > this.committed ? String(this.next) : undefined;
  }

  /** Records that the offset was committed. */
  markCommitted(offset: string | number): void {
    this.committed = Math.max(this.committed, Number(offset));
  }

  /** The offset last committed (or the one this consumer started from). */
  get committedOffset(): number {
    return this.committed;
  }

  /** Records begun and not yet acknowledged, or acknowledged behind one that isn't. */
  get pending(): number {
    return this.queue.length;
  }
}
