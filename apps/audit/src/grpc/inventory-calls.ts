import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
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
function refusalOf(err: ServiceError): Error {
  const category = CATEGORY_OF[err.code];
  if (!category) return new InventoryUnavailableError(`${status[err.code]}: ${err.details}`);
  const info = errorDetails(err).errorInfo;
  return new InventoryRefusedError(category, info?.reason ?? status[err.code], err.details, info?.metadata ?? {});
}

const DEADLINE_MS = 30_000;

/** A generated client's unary method, bound to its client. */
type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response: Res) => void,
) => unknown;

/** Calls the allocation app, with a deadline; its errors come back as {@link refusalOf} says. */
export function callInventory<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err, res) =>
      err ? reject(refusalOf(err)) : resolve(res),
    ),
  );
}
