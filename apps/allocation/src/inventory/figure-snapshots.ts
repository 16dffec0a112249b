import type * as pb from '@inventory/contracts';
import { positionKeyOfId, StockBalance } from '@inventory/domain';
import { readStockSnapshot, type Database, type StockSnapshot } from '@inventory/store';
import { positionFigures } from '../events/change-events';

/** Which positions to read: the items (every unit and class) at the nodes; undefined for every one. */
export interface FigureFilter {
  readonly itemIds?: readonly string[];
  readonly nodeIds?: readonly string[];
}

/** Position figures read at one moment, with where the change stream stood (see readStockSnapshot). */
export interface FigureSnapshot {
  /** Every position (all segments) of the items at the nodes read, with its figures. */
  readonly positions: readonly pb.PositionAvailabilityChanged[];
  /** The positions hold every change announced up to this stream position... */
  readonly lastSequence: number;
  /** ...and those of these committed outbox rows, which the stream will give later positions. */
  readonly unstampedRowIds: readonly number[];
}

/** Most reads one shared read stands for. */
const MAX_SHARED = 100;

interface Waiting {
  readonly filter: FigureFilter;
  readonly resolve: (snapshot: FigureSnapshot) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Reads position figures for watches. Reads asked for while one is in flight share the next one (at most
 * MAX_SHARED, over the union of their items and of their nodes), so that many watches opening at once, or a
 * rules change that every watch re-reads for, cost a few reads of the database instead of one per watch. A
 * shared read is one consistent snapshot, as good for each watch as its own; each keeps what it wants of it.
 */
export class FigureSnapshots {
  private waiting: Waiting[] = [];
  private reading = false;

  constructor(private readonly db: Database) {}

  read(filter: FigureFilter): Promise<FigureSnapshot> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ filter, resolve, reject });
      if (!this.reading) void this.readWaiting();
    });
  }

  private async readWaiting(): Promise<void> {
    this.reading = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_SHARED);
      try {
        const snapshot = figuresOf(await readStockSnapshot(this.db, union(batch.map((w) => w.filter))));
        for (const w of batch) w.resolve(snapshot);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.reading = false;
  }
}

function figuresOf(snapshot: StockSnapshot): FigureSnapshot {
  const balance = StockBalance.of([], snapshot.positions, snapshot.rules);
  const positions = [...snapshot.positions.keys()].flatMap((id) => {
    const key = positionKeyOfId(id);
    const view = balance.position(key);
    return view ? [positionFigures(key, view, snapshot.rules.version)] : [];
  });
  return { positions, lastSequence: snapshot.lastSequence, unstampedRowIds: snapshot.unstampedRowIds };
}

/** The items and nodes of every filter (a filter without items or nodes makes it every one). */
function union(filters: readonly FigureFilter[]): FigureFilter {
  const all = (ids: ReadonlyArray<readonly string[] | undefined>) =>
    ids.some((list) => list === undefined) ? undefined : [...new Set(ids.flat() as string[])];
  return { itemIds: all(filters.map((f) => f.itemIds)), nodeIds: all(filters.map((f) => f.nodeIds)) };
}
