import type { ServiceDefinition } from '@grpc/grpc-js';
import { DomainError } from '@inventory/domain';

/**
 * Thrown when a request's bytes cannot be decoded into its message, for example an int64 beyond what a
 * quantity can hold. grpc-js would report that as INTERNAL; it is the caller's input, so it is
 * INVALID_ARGUMENT.
 */
export class MalformedRequestError extends DomainError {
  readonly category = 'INVALID_ARGUMENT';
  readonly reason = 'MALFORMED_REQUEST';

  constructor(cause: unknown) {
    super(`the request could not be decoded: ${(cause as Error).message ?? String(cause)}`, { cause });
  }
}

/** Marks a request that failed to decode, so that the handler adapter can refuse it properly. */
export class UndecodableRequest {
  constructor(readonly error: MalformedRequestError) {}
}

/** The same service, with decoding failures handed to the handler as {@link UndecodableRequest}. */
export function withTolerantDecoding(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return method.requestDeserialize(bytes);
          } catch (err) {
            return new UndecodableRequest(new MalformedRequestError(err));
          }
        },
      },
    ]),
  );
}
