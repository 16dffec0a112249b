/**
 * Thrown when the service cannot start for a reason the operator fixes in a setting: the address is taken,
 * the database cannot be reached or used. `setting` names the environment variable to look at.
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly setting: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }

  /** What went wrong underneath, in one line: the innermost cause's message. */
  get detail(): string {
    let err: unknown = this.cause;
    while (err instanceof Error && err.cause instanceof Error) err = err.cause;
    return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  }
}
