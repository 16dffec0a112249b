import type { handleUnaryCall, ServiceError } from '@grpc/grpc-js';
import { errorDomainOf, toServiceError } from './errors';
import type { Logger } from '@inventory/runtime';
import { UndecodableRequest } from './malformed';

/**
 * Adapts an async handler to grpc-js: resolves to the response, or to the status that
 * {@link toServiceError} chooses. Logs every call at debug and every failure at info.
 */
export function unary<Req, Res>(
  method: string,
  logger: Logger,
  handle: (request: Req) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    Promise.resolve()
      .then(() => {
        if (call.request instanceof UndecodableRequest) throw call.request.error;
        return handle(call.request);
      })
      .then(
        (response) => {
          logger.debug({ method, ms: elapsed(started) }, 'ok');
          callback(null, response);
        },
        (err: unknown) => {
          const serviceError = toServiceError(err, logger, method, errorDomainOf(call.getPath()));
          logger.info(
            { method, ms: elapsed(started), code: serviceError.code, message: serviceError.details },
            'failed',
          );
          callback(serviceError as ServiceError);
        },
      );
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
