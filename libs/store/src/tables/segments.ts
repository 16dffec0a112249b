import { SEGMENT_STATES, type Segment, type SegmentType } from '@inventory/domain';
import { codeOf, integerOf, integerOrNullOf, type IntegerColumn } from './columns';

/** A row of `segment_types`. */
export interface SegmentTypeRow {
  readonly segment_type: string;
  readonly description: string;
  readonly created_ms: IntegerColumn;
}

export function segmentTypeRow(type: SegmentType): SegmentTypeRow {
  return { segment_type: type.segmentType, description: type.description, created_ms: type.createMs };
}

export function segmentTypeOf(row: SegmentTypeRow): SegmentType {
  return {
    segmentType: row.segment_type,
    description: row.description,
    createMs: integerOf(row.created_ms, 'segment_types.created_ms'),
  };
}

/** A row of `segments`. */
export interface SegmentRow {
  readonly segment_type: string;
  readonly segment: string;
  readonly description: string;
  readonly state: string;
  readonly created_ms: IntegerColumn;
  readonly updated_ms: IntegerColumn;
  readonly retired_ms: IntegerColumn | null;
}

export function segmentRow(segment: Segment): SegmentRow {
  return {
    segment_type: segment.segmentType,
    segment: segment.segment,
    description: segment.description,
    state: segment.state,
    created_ms: segment.createMs,
    updated_ms: segment.updateMs,
    retired_ms: segment.retireMs,
  };
}

export function segmentOf(row: SegmentRow): Segment {
  return {
    segmentType: row.segment_type,
    segment: row.segment,
    description: row.description,
    state: codeOf(SEGMENT_STATES, row.state, 'segments.state'),
    createMs: integerOf(row.created_ms, 'segments.created_ms'),
    updateMs: integerOf(row.updated_ms, 'segments.updated_ms'),
    retireMs: integerOrNullOf(row.retired_ms, 'segments.retired_ms'),
  };
}
