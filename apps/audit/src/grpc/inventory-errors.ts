import { status, type ServiceError } from '@grpc/grpc-js';
import type { ErrorCategory } from '@inventory/domain';
import { errorDetails } from '@inventory/grpc-server';
import { InventoryRefusedError, InventoryUnavailableError } from '../audit/errors';

const CATEGORY_OF: Partial<Record<status, ErrorCategory>> = {
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [status.OUT_OF_RANGE]: 'OUT_OF_RANGE',
  [status.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
};

/** The allocation app's error as this app reports it: its refusals passed on, anything else UNAVAILABLE. */
export function refusalOf(err: ServiceError): Error {
  const category = CATEGORY_OF[err.code];
  if (!category) return new InventoryUnavailableError(`${status[err.code]}: ${err.details}`);
  const info = errorDetails(err).errorInfo;
  return new InventoryRefusedError(category, info?.reason ?? status[err.code], err.details, info?.metadata ?? {});
}
