/** Milliseconds since the epoch; injected so that tests can pin time. */
export type Clock = () => number;
