/** Proto <-> domain translation of segment types and segments. No decisions are made here. */
import * as pb from '@inventory/contracts';
import type { Segment, SegmentType } from '@inventory/domain';
import { fromMs } from './translate';

export function fromSegmentType(type: SegmentType): pb.SegmentType {
  return { segmentType: type.segmentType, description: type.description, createTime: fromMs(type.createMs) };
}

export function fromSegment(segment: Segment): pb.Segment {
  return {
    segmentType: segment.segmentType,
    segment: segment.segment,
    description: segment.description,
    state: pb.SegmentState[`SEGMENT_STATE_${segment.state}`],
    createTime: fromMs(segment.createMs),
    updateTime: fromMs(segment.updateMs),
    retireTime: segment.retireMs === null ? undefined : fromMs(segment.retireMs),
  };
}
