import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, Status } from '@inventory/contracts';
import { DomainError, InvalidArgumentError, type ErrorCategory } from '@inventory/domain';
import type { Logger } from '@inventory/runtime';

/** The ErrorInfo.domain of every error this service reports. */
export const ERROR_DOMAIN = 'inventory.v1';

const CODE_OF: Record<ErrorCategory, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
};

/** Error codes of database drivers that mean "the database cannot be reached", not "a bug". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR']);

/**
 * The one place errors become gRPC statuses. A domain error keeps its message and gets a
 * google.rpc.Status in the `grpc-status-details-bin` trailer with an ErrorInfo (reason, metadata) and, for
 * invalid arguments, a BadRequest naming every field. Anything else is logged with its stack and reported
 * as INTERNAL (or UNAVAILABLE when the database is unreachable) with a generic message.
 */
export function toServiceError(err: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (err instanceof DomainError) {
    const code = CODE_OF[err.category];
    return withDetails(code, err.message, err.reason, err.metadata, err instanceof InvalidArgumentError ? err : undefined);
  }
  const driverCode = (err as { code?: unknown }).code;
  if ((typeof driverCode === 'string' && UNAVAILABLE_CODES.has(driverCode)) || (err as Error).name === 'KnexTimeoutError') {
    logger.warn({ err, method }, 'database unavailable');
    return withDetails(status.UNAVAILABLE, 'the database is unavailable; retry later', 'DATABASE_UNAVAILABLE', {});
  }
  logger.error({ err, method }, 'internal error');
  return withDetails(status.INTERNAL, 'internal error', 'INTERNAL', {});
}

function withDetails(
  code: status,
  message: string,
  reason: string,
  metadata: Record<string, string>,
  invalid?: InvalidArgumentError,
): Partial<ServiceError> {
  const details = [
    { typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', value: Buffer.from(ErrorInfo.encode({ reason, domain: ERROR_DOMAIN, metadata }).finish()) },
  ];
  if (invalid) {
    details.push({
      typeUrl: 'type.googleapis.com/google.rpc.BadRequest',
      value: Buffer.from(BadRequest.encode({ fieldViolations: invalid.violations.map((v) => ({ field: v.field, description: v.description })) }).finish()),
    });
  }
  const trailers = new Metadata();
  trailers.set('grpc-status-details-bin', Buffer.from(Status.encode({ code, message, details }).finish()));
  return { code, details: message, metadata: trailers };
}

/** Reads the details of an error produced by {@link toServiceError} (for clients and tests). */
export function errorDetails(err: ServiceError): { errorInfo?: ErrorInfo; badRequest?: BadRequest } {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (!raw) return {};
  const result: { errorInfo?: ErrorInfo; badRequest?: BadRequest } = {};
  for (const any of Status.decode(raw as Buffer).details) {
    if (any.typeUrl.endsWith('/google.rpc.ErrorInfo')) result.errorInfo = ErrorInfo.decode(any.value);
    if (any.typeUrl.endsWith('/google.rpc.BadRequest')) result.badRequest = BadRequest.decode(any.value);
  }
  return result;
}
