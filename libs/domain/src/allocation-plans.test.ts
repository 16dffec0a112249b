import { ruleFor, type AllocationPlan, type AllocationRule, type RuleConditions } from './allocation-plans';

const ANY: RuleConditions = {
  itemIds: [],
  nodeIds: [],
  productClass: null,
  effectiveFromMs: null,
  effectiveToMs: null,
};
const JAN = Date.parse('2026-01-01T00:00:00Z');
const FEB = Date.parse('2026-02-01T00:00:00Z');

function rule(ruleId: string, rank: number, conditions: Partial<RuleConditions>): AllocationRule {
  return {
    ruleId,
    rank,
    conditions: { ...ANY, ...conditions },
    strategy: {
      kind: 'FIXED',
      segments: [{ segment: { segmentType: '', segment: '' }, basisPoints: 10000, minimum: 0 }],
    },
  };
}

function plan(...rules: AllocationRule[]): AllocationPlan {
  return { segmentType: 'CHANNEL', rules, rebalanceEveryMs: null, triggersEnabled: true, enabled: true, version: 1 };
}

const SHIRT_AT_DC1 = { itemId: 'SHIRT', productClass: 'NEW', nodeId: 'DC1' };

describe('ruleFor', () => {
  it('picks the best ranked matching rule, even when a lower ranked one is more specific', () => {
    const broad = rule('broad', 1, { nodeIds: ['DC1', 'DC2'] });
    const specific = rule('specific', 2, { itemIds: ['SHIRT'], nodeIds: ['DC1'], productClass: 'NEW' });
    expect(ruleFor(plan(specific, broad), SHIRT_AT_DC1, JAN)?.ruleId).toBe('broad');
    expect(ruleFor(plan(specific, broad), { ...SHIRT_AT_DC1, nodeId: 'DC3' }, JAN)).toBeUndefined();
  });

  it('takes a lower ranked rule when the better one does not match every condition', () => {
    const better = rule('better', 1, { itemIds: ['SHIRT'], productClass: 'OLD' });
    const other = rule('other', 5, { itemIds: ['SHIRT', 'SOCK'] });
    expect(ruleFor(plan(better, other), SHIRT_AT_DC1, JAN)?.ruleId).toBe('other');
    expect(ruleFor(plan(better, other), { ...SHIRT_AT_DC1, productClass: 'OLD' }, JAN)?.ruleId).toBe('better');
    expect(ruleFor(plan(better, other), { ...SHIRT_AT_DC1, itemId: 'HAT' }, JAN)).toBeUndefined();
  });

  it('applies a date-bounded rule from its start (inclusive) to its end (exclusive), then the next rule', () => {
    const sale = rule('sale', 1, { effectiveFromMs: JAN, effectiveToMs: FEB });
    const always = rule('always', 2, { nodeIds: ['DC1'] });
    const p = plan(always, sale);
    expect(ruleFor(p, SHIRT_AT_DC1, JAN - 1)?.ruleId).toBe('always');
    expect(ruleFor(p, SHIRT_AT_DC1, JAN)?.ruleId).toBe('sale');
    expect(ruleFor(p, SHIRT_AT_DC1, FEB - 1)?.ruleId).toBe('sale');
    expect(ruleFor(p, SHIRT_AT_DC1, FEB)?.ruleId).toBe('always');
  });

  it('matches an empty product class condition only to items without a class', () => {
    const unclassed = rule('unclassed', 1, { productClass: '' });
    expect(ruleFor(plan(unclassed), { ...SHIRT_AT_DC1, productClass: '' }, JAN)?.ruleId).toBe('unclassed');
    expect(ruleFor(plan(unclassed), SHIRT_AT_DC1, JAN)).toBeUndefined();
  });
});
