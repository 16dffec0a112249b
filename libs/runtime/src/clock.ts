/**
 * The wall clock, in milliseconds since the epoch: a `Clock` (the domain's type) that production code is given
 * where tests give a pinned one.
 */
export const systemClock = (): number => Date.now();
