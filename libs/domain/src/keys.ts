/** Identifies a sellable item. */
export interface ItemKey {
  readonly itemId: string;
  /** Defaults to {@link DEFAULT_UNIT_OF_MEASURE} when the caller leaves it empty. */
  readonly unitOfMeasure: string;
  readonly productClass: string;
}

/** A segment of stock; both fields empty is the unsegmented pool. */
export interface SegmentKey {
  readonly segmentType: string;
  readonly segment: string;
}

export const DEFAULT_UNIT_OF_MEASURE = 'EACH';

export const UNSEGMENTED: SegmentKey = Object.freeze({ segmentType: '', segment: '' });

export function isUnsegmented(segment: SegmentKey): boolean {
  return segment.segmentType === '' && segment.segment === '';
}

/** Fills the defaults a caller may leave out. */
export function itemKey(itemId: string, unitOfMeasure = '', productClass = ''): ItemKey {
  return { itemId, unitOfMeasure: unitOfMeasure || DEFAULT_UNIT_OF_MEASURE, productClass };
}
