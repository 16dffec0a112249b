import type * as pb from '@inventory/contracts';
import { PPM, type SegmentBorrowing, type SegmentConsumptionRuleInput } from '@inventory/domain';
import type { ConsumptionRulesVersion } from '@inventory/store';
import { fromMs, toSegment } from './translate';

/** A rule as the caller sent it; an unset optional limit stays `undefined`. */
export function toSegmentRule(rule: pb.SegmentConsumptionRule): SegmentConsumptionRuleInput {
  return {
    segment: toSegment(rule.segment),
    mayBorrow: rule.mayBorrow,
    capQuantity: rule.capQuantity,
    capRatio: rule.capRatio,
    keepInPool: rule.keepInPool,
  };
}

function fromSegmentBorrowing(s: SegmentBorrowing): pb.SegmentConsumptionRule {
  return {
    segment: { segmentType: s.segment.segmentType, segment: s.segment.segment },
    mayBorrow: s.mayBorrow,
    capQuantity: s.capQuantity ?? undefined,
    capRatio: s.capRatioPpm === null ? undefined : s.capRatioPpm / PPM,
    keepInPool: s.keepInPool ?? undefined,
  };
}

/** A version of the rules; version 0 (never set) has no create_time and no request_id. */
export function fromConsumptionRulesVersion(v: ConsumptionRulesVersion): pb.ConsumptionRules {
  return {
    version: v.rules.version,
    borrowingEnabled: v.rules.borrowingEnabled,
    segments: v.rules.segments.map(fromSegmentBorrowing),
    createTime: v.rules.version === 0 ? undefined : fromMs(v.createMs),
    requestId: v.requestId,
  };
}
