import type * as pb from '@inventory/contracts';

/** A segment key; `CHANNEL` is the segment type the plan tests use. */
export const seg = (segment: string, segmentType = 'CHANNEL'): pb.SegmentKey => ({ segmentType, segment });

/** The unsegmented pool's key. */
export const POOL: pb.SegmentKey = { segmentType: '', segment: '' };

/** A segment's share in a rule, in basis points, with an optional minimum and margin. */
export const share = (
  segment: pb.SegmentKey,
  basisPoints: number,
  minimum?: number,
  margin?: number,
): pb.AllocationSegmentShare => ({ segment, basisPoints, minimum, margin });

/** A fixed strategy over `segments`. */
export const fixed = (segments: pb.AllocationSegmentShare[]): pb.AllocationStrategy => ({
  fixed: {},
  segments,
  window: undefined,
});
