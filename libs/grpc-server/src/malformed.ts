import type { ServiceDefinition } from '@grpc/grpc-js';
import { DomainError, InvalidArgumentError } from '@inventory/domain';
import type { WireCheck } from './wire-check';

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

/** Marks a request that failed to decode or to pass the wire check, so that the handler adapter can refuse it properly. */
export class UndecodableRequest {
  constructor(readonly error: DomainError) {}
}

/**
 * The same service, with decoding failures and what `wireCheck` finds in the bytes (invalid UTF-8, Timestamp
 * nanos out of range) handed to the handler as {@link UndecodableRequest}.
 */
export function withTolerantDecoding(definition: ServiceDefinition, wireCheck?: WireCheck): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          let request: unknown;
          try {
            request = method.requestDeserialize(bytes);
          } catch (err) {
            return new UndecodableRequest(new MalformedRequestError(err));
          }
          const violations = wireCheck?.violations(method.path, bytes) ?? [];
          return violations.length > 0 ? new UndecodableRequest(new InvalidArgumentError(violations)) : request;
        },
      },
    ]),
  );
}
