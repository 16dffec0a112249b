/** One end-of-run verification: nothing oversold, every success stored. A failed check fails the command. */
export interface Check {
  /** What was checked, e.g. "b1 hot: qty = initial - successes". */
  readonly name: string;
  readonly ok: boolean;
  /** The numbers compared, for the reader. */
  readonly detail: string;
}

export function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}
