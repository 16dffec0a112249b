import { itemKey } from './keys';
import { resolveSafetyStock } from './safety-stock';

const item = itemKey('SKU-1');

describe('resolveSafetyStock', () => {
  it('prefers the node rule, then the item rule, then none', () => {
    const rules = [
      { item, nodeId: '', quantity: 5 },
      { item, nodeId: 'DC1', quantity: 2 },
    ];
    expect(resolveSafetyStock(rules, 'DC1')).toEqual({ quantity: 2, level: 'ITEM_NODE' });
    expect(resolveSafetyStock(rules, 'DC2')).toEqual({ quantity: 5, level: 'ITEM' });
    expect(resolveSafetyStock([], 'DC1')).toEqual({ quantity: 0, level: 'NONE' });
  });

  it('honours an explicit zero at the node over the item rule', () => {
    expect(
      resolveSafetyStock(
        [
          { item, nodeId: '', quantity: 5 },
          { item, nodeId: 'DC1', quantity: 0 },
        ],
        'DC1',
      ),
    ).toEqual({ quantity: 0, level: 'ITEM_NODE' });
  });
});
