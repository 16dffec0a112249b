import { deviationStart } from './compliance';

describe('segmentation compliance', () => {
  it('dates a deviation seen first to the latest known cause, never after now', () => {
    expect(deviationStart([100, 300, undefined, null, 200], 1000)).toBe(300);
    expect(deviationStart([null, undefined], 1000)).toBe(1000);
    expect(deviationStart([2000], 1000)).toBe(1000);
  });
});
