/**
 * A client-side limit on received metadata, as grpcio (gRPC C-core) applies it: 8 KiB by default for all
 * headers or trailers of a call, each entry counted as key + value as sent + 32 bytes, binary values in
 * their base64 form. grpc-js has no such limit (it ignores `grpc.max_metadata_size`), so tests that must see
 * what a default grpcio client sees use this interceptor.
 */
import { InterceptingCall, Metadata, status, type Interceptor, type StatusObject } from '@grpc/grpc-js';

export const GRPCIO_DEFAULT_METADATA_LIMIT = 8 * 1024;

export function metadataLimit(limit = GRPCIO_DEFAULT_METADATA_LIMIT): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        next(metadata, {
          onReceiveStatus(received: StatusObject, pass) {
            const size = trailersSize(received);
            if (size <= limit) return pass(received);
            pass({
              code: status.RESOURCE_EXHAUSTED,
              details: `received trailing metadata size exceeds limit (${size} vs. ${limit})`,
              metadata: new Metadata(),
            });
          },
        });
      },
    });
}

/** The size C-core accounts for the trailers of a call: grpc-status, grpc-message and the rest. */
export function trailersSize(received: StatusObject): number {
  const entry = (key: string, wireValueLength: number) => key.length + wireValueLength + 32;
  let size =
    entry('grpc-status', String(received.code).length) +
    entry('grpc-message', encodeURIComponent(received.details).length);
  for (const [key, values] of Object.entries(received.metadata.toJSON())) {
    for (const value of values)
      size += entry(key, Buffer.isBuffer(value) ? Math.ceil(value.length / 3) * 4 : Buffer.byteLength(value));
  }
  return size;
}
