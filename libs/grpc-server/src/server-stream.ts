import type { handleServerStreamingCall, ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from '@inventory/runtime';
import { errorDomainOf, toServiceError } from './errors';
import { UndecodableRequest } from './malformed';

/** Sends one response on a stream; resolves once the stream can take more (flow control). */
export type StreamSender<Res> = (response: Res) => Promise<void>;

/** What a streaming handler knows of its call besides the request. */
export interface StreamCall {
  /** Aborts when the caller goes away. */
  readonly cancelled: AbortSignal;
  /** The caller's connection (its address and port). */
  readonly peer: string;
  /**
   * Calls `listener` once when the caller goes away (one listener per call: a second replaces the first).
   * Costs far less memory than a listener on `cancelled` (an EventTarget listener takes close to 1 KB),
   * which matters for streams that stay open for long.
   */
  onCancel(listener: () => void): void;
}

/**
 * Adapts an async streaming handler to grpc-js, like {@link unary} does for a unary one: `handle` sends
 * responses with `send` until it resolves (the stream ends with OK) or throws (the stream ends with the
 * status {@link toServiceError} chooses, as a unary call would). When the caller goes away
 * `call.cancelled` aborts and `send` resolves without sending, so the handler only has to stop.
 */
export function serverStream<Req, Res>(
  method: string,
  logger: Logger,
  handle: (request: Req, send: StreamSender<Res>, call: StreamCall) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const started = performance.now();
    const caller = new AbortController();
    let onCancel: (() => void) | undefined;
    call.on('cancelled', () => {
      caller.abort();
      onCancel?.();
    });
    const send = (response: Res) => sendWithFlowControl(call, response, caller.signal);
    const context: StreamCall = {
      cancelled: caller.signal,
      peer: call.getPeer(),
      onCancel: (listener) => {
        if (caller.signal.aborted) listener();
        else onCancel = listener;
      },
    };
    Promise.resolve()
      .then(() => {
        if (call.request instanceof UndecodableRequest) throw call.request.error;
        return handle(call.request, send, context);
      })
      .then(
        () => {
          logger.debug({ method, ms: elapsed(started), cancelled: caller.signal.aborted }, 'stream ended');
          if (!caller.signal.aborted) call.end();
        },
        (err: unknown) => {
          const serviceError = toServiceError(err, logger, method, errorDomainOf(call.getPath()));
          logger.info(
            { method, ms: elapsed(started), code: serviceError.code, message: serviceError.details },
            'stream failed',
          );
          if (!caller.signal.aborted) call.emit('error', serviceError);
        },
      );
  };
}

/** Writes `response`; when the stream's buffer is full, waits for it to drain or for the caller to leave. */
function sendWithFlowControl<Req, Res>(
  call: ServerWritableStream<Req, Res>,
  response: Res,
  cancelled: AbortSignal,
): Promise<void> {
  if (cancelled.aborted || call.write(response)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      cancelled.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    cancelled.addEventListener('abort', done);
  });
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
