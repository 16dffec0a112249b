import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, Status } from '@inventory/contracts';
import {
  DatabaseUnavailableError,
  DomainError,
  InvalidArgumentError,
  type ErrorCategory,
  type FieldViolation,
} from '@inventory/domain';
import type { Logger } from '@inventory/runtime';

/** The ErrorInfo.domain of an error whose method's package is not known. */
export const ERROR_DOMAIN = 'inventory.v1';

/** The ErrorInfo.domain of a method's errors: its proto package ("audit.v1" for /audit.v1.AuditService/X). */
export function errorDomainOf(path: string | undefined): string {
  const service = path?.split('/')[1] ?? '';
  const dot = service.lastIndexOf('.');
  return dot > 0 ? service.slice(0, dot) : ERROR_DOMAIN;
}

const CODE_OF: Record<ErrorCategory, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  OUT_OF_RANGE: status.OUT_OF_RANGE,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
};

/**
 * Bounds on what an error carries. Clients limit the metadata they accept (grpcio's default is 8 KiB for
 * all headers or trailers together, and `grpc-status-details-bin` travels base64-encoded, a third larger);
 * past the limit the caller sees RESOURCE_EXHAUSTED and none of the details. The bounds keep a whole error
 * well below 8 KiB.
 */
export const MAX_FIELD_VIOLATIONS = 30;
export const MAX_MESSAGE_LENGTH = 512;
/** Bytes of field paths and descriptions one BadRequest may carry. */
const VIOLATIONS_BUDGET = 2048;
/** Bytes of keys and values one ErrorInfo's metadata may carry. */
const METADATA_BUDGET = 1024;
const MAX_TEXT_LENGTH = 128;

/**
 * The one place errors become gRPC statuses. A domain error keeps its message and gets a
 * google.rpc.Status in the `grpc-status-details-bin` trailer with an ErrorInfo (reason, metadata) and, for
 * invalid arguments, a BadRequest naming the fields (the first {@link MAX_FIELD_VIOLATIONS}, then one entry
 * counting the rest). Anything else is logged with its stack and reported as INTERNAL with a generic
 * message. Database failures arrive here already classified by the store (DatabaseUnavailableError).
 */
export function toServiceError(
  err: unknown,
  logger: Logger,
  method: string,
  domain = ERROR_DOMAIN,
): Partial<ServiceError> {
  if (err instanceof DatabaseUnavailableError) {
    logger.warn({ err, method, problem: err.problem }, 'database unavailable');
  }
  if (err instanceof DomainError) {
    const code = CODE_OF[err.category];
    if (err instanceof InvalidArgumentError)
      return withDetails(code, invalidArgumentMessage(err), err.reason, err.metadata, domain, err);
    return withDetails(code, err.message, err.reason, err.metadata, domain);
  }
  logger.error({ err, method }, 'internal error');
  return withDetails(status.INTERNAL, 'internal error', 'INTERNAL', {}, domain);
}

function withDetails(
  code: status,
  message: string,
  reason: string,
  metadata: Record<string, string>,
  domain: string,
  invalid?: InvalidArgumentError,
): Partial<ServiceError> {
  const bounded = truncate(message, MAX_MESSAGE_LENGTH);
  const details = [
    {
      typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo',
      value: Buffer.from(ErrorInfo.encode({ reason, domain, metadata: boundedMetadata(metadata) }).finish()),
    },
  ];
  if (invalid) {
    details.push({
      typeUrl: 'type.googleapis.com/google.rpc.BadRequest',
      value: Buffer.from(BadRequest.encode({ fieldViolations: boundedViolations(invalid.violations) }).finish()),
    });
  }
  const trailers = new Metadata();
  trailers.set('grpc-status-details-bin', Buffer.from(Status.encode({ code, message: bounded, details }).finish()));
  return { code, details: bounded, metadata: trailers };
}

/** The violations, as many as fit in the message, then how many more there are. */
function invalidArgumentMessage(err: InvalidArgumentError): string {
  let message = '';
  let listed = 0;
  for (const v of err.violations) {
    const next = `${message}${listed > 0 ? '; ' : ''}${v.field}: ${v.description}`;
    if (next.length > MAX_MESSAGE_LENGTH - 40) break;
    message = next;
    listed++;
  }
  const rest = err.violations.length - listed;
  return rest === 0 ? message : `${message}${listed > 0 ? '; ' : ''}and ${rest} more`;
}

function boundedViolations(violations: readonly FieldViolation[]): FieldViolation[] {
  const kept: FieldViolation[] = [];
  let bytes = 0;
  for (const v of violations) {
    const field = truncate(v.field, MAX_TEXT_LENGTH);
    const description = truncate(v.description, MAX_TEXT_LENGTH);
    bytes += Buffer.byteLength(field) + Buffer.byteLength(description);
    if (kept.length === MAX_FIELD_VIOLATIONS || bytes > VIOLATIONS_BUDGET) break;
    kept.push({ field, description });
  }
  const rest = violations.length - kept.length;
  if (rest > 0) kept.push({ field: '', description: `and ${rest} more violation${rest === 1 ? '' : 's'} not listed` });
  return kept;
}

function boundedMetadata(metadata: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  let bytes = 0;
  let omitted = 0;
  for (const [key, value] of Object.entries(metadata)) {
    const k = truncate(key, MAX_TEXT_LENGTH);
    const v = truncate(value, MAX_TEXT_LENGTH);
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (bytes > METADATA_BUDGET) omitted++;
    else kept[k] = v;
  }
  if (omitted > 0) kept['omitted_entries'] = String(omitted);
  return kept;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
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
