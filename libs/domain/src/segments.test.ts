import {
  type InvalidArgumentError,
  SegmentHoldsStockError,
  SegmentNotDefinedError,
  SegmentRetiredError,
  type SegmentStock,
} from './errors';
import { UNSEGMENTED } from './keys';
import {
  newSegment,
  parseCreateSegment,
  parseCreateSegmentType,
  requireUsableSegment,
  retireSegment,
  type Segment,
} from './segments';
import { Violations } from './validation';

const NOTHING: SegmentStock = {
  supplyRows: 0,
  supplyUnits: 0,
  demandRows: 0,
  demandUnits: 0,
  activeHolds: 0,
  heldUnits: 0,
};
const web: Segment = newSegment({ requestId: 'r', segmentType: 'CHANNEL', segment: 'WEB', description: '' }, 1000);
const key = { segmentType: 'CHANNEL', segment: 'WEB' };

function fieldsOf(action: () => unknown): string[] {
  try {
    action();
    return [];
  } catch (e) {
    return (e as InvalidArgumentError).violations.map((v) => v.field);
  }
}

describe('segments', () => {
  it('checks ids with the id alphabet and the segment lengths', () => {
    expect(
      fieldsOf(() => parseCreateSegmentType({ requestId: 'r', segmentType: 'X'.repeat(32), description: '' })),
    ).toEqual([]);
    expect(
      fieldsOf(() => parseCreateSegmentType({ requestId: '', segmentType: 'X'.repeat(33), description: '' })),
    ).toEqual(['request_id', 'segment_type.segment_type']);
    expect(
      fieldsOf(() => parseCreateSegment({ requestId: 'r', segmentType: 'has space', segment: '', description: '' })),
    ).toEqual(['segment.segment_type', 'segment.segment']);
    expect(
      fieldsOf(() =>
        parseCreateSegment({ requestId: 'r', segmentType: 'A', segment: 'B'.repeat(65), description: '\u0007' }),
      ),
    ).toEqual(['segment.segment', 'segment.description']);
  });

  it('requires both fields of a segment key, or neither', () => {
    const check = (segmentType: string, segment: string) =>
      fieldsOf(() => {
        const v = new Violations();
        v.segment('segment', { segmentType, segment });
        v.throwIfAny();
      });
    expect(check('', '')).toEqual([]);
    expect(check('CHANNEL', 'WEB')).toEqual([]);
    expect(check('CHANNEL', '')).toEqual(['segment.segment']);
    expect(check('', 'WEB')).toEqual(['segment.segment_type']);
    expect(check('CHANNEL', 'a/b')).toEqual(['segment.segment']);
    expect(check('C'.repeat(33), 'WEB')).toEqual(['segment.segment_type']);
  });

  it('lets the unsegmented pool and active segments be used, and refuses the rest like undefined ones', () => {
    expect(() => requireUsableSegment('segment', UNSEGMENTED, undefined)).not.toThrow();
    expect(() => requireUsableSegment('segment', key, web)).not.toThrow();
    expect(() => requireUsableSegment('lines[2].segment', key, undefined)).toThrow(SegmentNotDefinedError);
    const retired = retireSegment(web, NOTHING, undefined, 2000).segment;
    let refusal: unknown;
    try {
      requireUsableSegment('lines[2].segment', key, retired);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(SegmentRetiredError);
    expect(refusal).toMatchObject({
      reason: 'SEGMENT_NOT_DEFINED',
      metadata: { field: 'lines[2].segment', segment_type: 'CHANNEL', segment: 'WEB', state: 'RETIRED' },
    });
    expect((refusal as Error).message).toContain('retired');
  });

  it('retires a segment that holds nothing, once, and refuses while anything remains', () => {
    const first = retireSegment(web, NOTHING, undefined, 2000);
    expect(first).toEqual({ changed: true, segment: { ...web, state: 'RETIRED', updateMs: 2000, retireMs: 2000 } });
    expect(retireSegment(first.segment, { ...NOTHING, supplyRows: 1 }, undefined, 3000)).toEqual({
      changed: false,
      segment: first.segment,
    });
    for (const remains of [{ supplyRows: 1, supplyUnits: 5 }, { demandRows: 2 }, { activeHolds: 1, heldUnits: 3 }]) {
      expect(() => retireSegment(web, { ...NOTHING, ...remains }, undefined, 2000)).toThrow(SegmentHoldsStockError);
    }
    // Rows that cancel out still hold stock: their units sum to zero but the rows are not zero.
    expect(() => retireSegment(web, { ...NOTHING, supplyRows: 2, supplyUnits: 0 }, undefined, 2000)).toThrow(
      SegmentHoldsStockError,
    );
  });
});
