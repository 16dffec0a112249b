/**
 * Group commit for reservations: while some batches are in flight, new requests queue; each batch that
 * starts takes everything queued (up to a weight), so under load many requests share one transaction
 * and one commit, and at low load a request starts at once. Requests with the same key (reservation id)
 * never share a batch: the later one waits for the next, where it sees the first one's answer.
 */
export class Coalescer<T, R> {
  private readonly queue: Array<{ key: string; item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private inFlight = 0;

  constructor(
    private readonly run: (items: T[]) => Promise<Array<R | Error>>,
    private readonly maxInFlight: number,
    /** Most weight (for reservations: lines) one batch may carry; a heavier single item runs alone. */
    private readonly maxBatchWeight: number,
    private readonly weightOf: (item: T) => number,
  ) {}

  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ key, item, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const keys = new Set<string>();
      const batch: typeof this.queue = [];
      let weight = 0;
      for (let i = 0; i < this.queue.length;) {
        const entry = this.queue[i] as (typeof this.queue)[number];
        const entryWeight = this.weightOf(entry.item);
        if (batch.length > 0 && weight + entryWeight > this.maxBatchWeight) break;
        if (keys.has(entry.key)) {
          i++;
          continue;
        }
        keys.add(entry.key);
        weight += entryWeight;
        batch.push(entry);
        this.queue.splice(i, 1);
      }
      this.inFlight++;
      this.run(batch.map((b) => b.item))
        .then((results) =>
          batch.forEach((b, i) => (results[i] instanceof Error ? b.reject(results[i]) : b.resolve(results[i] as R))),
        )
        .catch((err: unknown) => batch.forEach((b) => b.reject(err)))
        .finally(() => {
          this.inFlight--;
          this.drain();
        });
    }
  }
}
