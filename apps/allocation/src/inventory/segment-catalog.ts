import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import {
  describeSegment,
  InvalidArgumentError,
  isUnsegmented,
  newSegment,
  parseCreateSegment,
  parseCreateSegmentType,
  parsePageSize,
  parseRetireSegment,
  parseUpdateSegment,
  requireSegmentIds,
  requireSegmentTypeId,
  requireUsableSegment,
  retireSegment,
  SegmentAlreadyExistsError,
  SegmentNotFoundError,
  SegmentTypeAlreadyExistsError,
  SegmentTypeNotFoundError,
  type Clock,
  type CreateSegmentCommand,
  type CreateSegmentTypeCommand,
  type RetireSegmentCommand,
  type Segment,
  type SegmentKey,
  type SegmentType,
  type UpdateSegmentCommand,
} from '@inventory/domain';
import {
  appendOutbox,
  readAllocationPlan,
  findSegments,
  getSegment,
  getSegmentType,
  insertSegment,
  insertSegmentType,
  listSegments,
  listSegmentTypes,
  lockSegment,
  mutate,
  segmentKeyId,
  segmentStock,
  updateSegment,
  type Database,
  decodePageToken,
  page,
} from '@inventory/store';
import {
  segmentCreatedEvent,
  segmentRetiredEvent,
  segmentTypeCreatedEvent,
  segmentUpdatedEvent,
} from '../events/change-events';

/** A segment a request names, and the field that names it (for the error). */
export type NamedSegment = readonly [field: string, segment: SegmentKey];

/**
 * Checks that every segment a request names may be used: the unsegmented pool always, any other segment
 * only while it is defined and active. One read for all of them; throws SegmentNotDefinedError (or
 * SegmentRetiredError) naming the first offending field.
 */
export async function requireUsableSegments(
  db: Knex,
  named: readonly NamedSegment[],
  { lock = false }: { lock?: boolean } = {},
): Promise<void> {
  const segmented = named.filter(([, key]) => !isUnsegmented(key));
  if (segmented.length === 0) return;
  const found = await findSegments({ db, keys: segmented.map(([, key]) => key), lock });
  requireFound(segmented, found);
}

/** Throws for the first segment that `found` (segments by key id) does not have as defined and active. */
export function requireFound(named: readonly NamedSegment[], found: ReadonlyMap<string, Segment>): void {
  for (const [field, key] of named)
    if (!isUnsegmented(key)) requireUsableSegment(field, key, found.get(segmentKeyId(key)));
}

/** Segment types and the segments within them. */
export class SegmentCatalog {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async createSegmentType(input: CreateSegmentTypeCommand): Promise<SegmentType> {
    const cmd = parseCreateSegmentType(input);
    return mutate(this.mutation('CreateSegmentType', cmd), async (trx, nowMs) => {
      if (await getSegmentType({ db: trx, segmentType: cmd.segmentType }))
        throw new SegmentTypeAlreadyExistsError(cmd.segmentType);
      const type: SegmentType = { segmentType: cmd.segmentType, description: cmd.description, createMs: nowMs };
      await insertSegmentType({ trx, type });
      await appendOutbox({ trx, events: [segmentTypeCreatedEvent(this.context(cmd.requestId, nowMs), type)] });
      return type;
    });
  }

  async getSegmentType(segmentType: string): Promise<SegmentType> {
    requireSegmentTypeId('segment_type', segmentType);
    const type = await getSegmentType({ db: this.db.knex, segmentType });
    if (!type) throw new SegmentTypeNotFoundError(segmentType);
    return type;
  }

  async listSegmentTypes(pageSize: number, pageToken: string) {
    const size = parsePageSize(pageSize);
    const after = decodePageToken(pageToken, 'segment_types', '');
    const rows = await listSegmentTypes({ db: this.db.knex, afterSegmentType: after, limit: size + 1 });
    return page(rows, size, (t) => t.segmentType, 'segment_types');
  }

  async createSegment(input: CreateSegmentCommand): Promise<Segment> {
    const cmd = parseCreateSegment(input);
    return mutate(this.mutation('CreateSegment', cmd), async (trx, nowMs) => {
      if (!(await getSegmentType({ db: trx, segmentType: cmd.segmentType })))
        throw new SegmentTypeNotFoundError(cmd.segmentType);
      const existing = await getSegment({ db: trx, key: cmd });
      if (existing) throw new SegmentAlreadyExistsError(cmd.segmentType, cmd.segment, existing.state === 'RETIRED');
      const segment = newSegment(cmd, nowMs);
      await insertSegment({ trx, segment });
      await appendOutbox({ trx, events: [segmentCreatedEvent(this.context(cmd.requestId, nowMs), segment)] });
      return segment;
    });
  }

  async getSegment(segmentType: string, segment: string): Promise<Segment> {
    requireSegmentIds(segmentType, segment);
    const found = await getSegment({ db: this.db.knex, key: { segmentType, segment } });
    if (!found) throw new SegmentNotFoundError(segmentType, segment);
    return found;
  }

  async listSegments(
    filter: { segmentType: string; includeRetired: boolean },
    pageSize: number,
    pageToken: string,
  ): Promise<{ items: Segment[]; nextPageToken: string }> {
    requireSegmentTypeId('segment_type', filter.segmentType, true);
    const size = parsePageSize(pageSize);
    const filters = `segments:${filter.segmentType}:${filter.includeRetired}`;
    const after = afterSegment(decodePageToken(pageToken, filters, ''));
    if (filter.segmentType !== '' && !(await getSegmentType({ db: this.db.knex, segmentType: filter.segmentType })))
      throw new SegmentTypeNotFoundError(filter.segmentType);
    const rows = await listSegments({ db: this.db.knex, ...filter, after, limit: size + 1 });
    return page(rows, size, segmentKeyId, filters);
  }

  async updateSegment(input: UpdateSegmentCommand): Promise<Segment> {
    const cmd = parseUpdateSegment(input);
    return mutate(this.mutation('UpdateSegment', cmd), async (trx, nowMs) => {
      const before = await lockSegment({ trx, key: cmd });
      if (!before) throw new SegmentNotFoundError(cmd.segmentType, cmd.segment);
      const segment = describeSegment(before, cmd.description, nowMs);
      await updateSegment({ trx, segment });
      await appendOutbox({
        trx,
        events: [segmentUpdatedEvent(this.context(cmd.requestId, nowMs), segment, before.description)],
      });
      return segment;
    });
  }

  /**
   * Retires a segment once nothing remains in it. The segment's row lock orders it after any update of the
   * segment; what remains is read in the same transaction.
   */
  async retireSegment(input: RetireSegmentCommand): Promise<Segment> {
    const cmd = parseRetireSegment(input);
    return mutate(this.mutation('RetireSegment', cmd), async (trx, nowMs) => {
      const before = await lockSegment({ trx, key: cmd });
      if (!before) throw new SegmentNotFoundError(cmd.segmentType, cmd.segment);
      const stock = await segmentStock({ db: trx, key: cmd, nowMs });
      // After the segment's row lock: a plan set meanwhile that names it waits, then finds it retired.
      const plan = await readAllocationPlan({ db: trx, segmentType: cmd.segmentType });
      const { segment, changed } = retireSegment(before, stock, plan?.plan, nowMs);
      if (changed) {
        await updateSegment({ trx, segment });
        await appendOutbox({ trx, events: [segmentRetiredEvent(this.context(cmd.requestId, nowMs), segment)] });
      }
      return segment;
    });
  }

  /** See {@link requireUsableSegments}. */
  async requireUsable(named: readonly NamedSegment[]): Promise<void> {
    await requireUsableSegments(this.db.knex, named);
  }

  private mutation(method: string, cmd: { requestId: string }) {
    return { db: this.db, clock: this.clock, method, requestId: cmd.requestId, request: cmd };
  }

  private context(requestId: string, nowMs: number) {
    return { actionId: randomUUID(), requestId, occurMs: nowMs };
  }
}

/** The page token's position: `segmentType/segment` of the last segment listed (ids cannot contain '/'). */
function afterSegment(position: string): SegmentKey | undefined {
  if (position === '') return undefined;
  const [segmentType, segment, ...rest] = position.split('/');
  if (!segmentType || !segment || rest.length > 0)
    throw new InvalidArgumentError([
      { field: 'page_token', description: 'is not a token this list returned for these filters' },
    ]);
  return { segmentType, segment };
}
