/**
 * Requests as bytes, for what a generated client cannot send: strings that are not valid UTF-8 and
 * Timestamps with nanos out of range. Tests encode a request normally with a marker and replace the
 * marker's bytes with the same number of other bytes, so every length prefix stays right.
 */
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';

/** Sends `request` to the unary method at `path`; resolves to the response bytes or rejects with the status. */
export function callRaw(address: string, path: string, request: Uint8Array): Promise<Buffer> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (bytes: Uint8Array) => Buffer.from(bytes),
      (bytes: Buffer) => bytes,
      request,
      new Metadata(),
      { deadline: Date.now() + 30_000 },
      (err: ServiceError | null, response?: Buffer) => (err ? reject(err) : resolve(response as Buffer)),
    );
  }).finally(() => client.close());
}

/** `bytes` with the one occurrence of `marker` replaced by `replacement` of the same length. */
export function replaceOnce(bytes: Uint8Array, marker: Uint8Array, replacement: Uint8Array): Buffer {
  if (marker.length !== replacement.length) throw new Error('the replacement must be as long as the marker');
  const buffer = Buffer.from(bytes);
  const at = buffer.indexOf(marker);
  if (at < 0 || buffer.indexOf(marker, at + 1) >= 0) throw new Error('the marker must occur exactly once');
  Buffer.from(replacement).copy(buffer, at);
  return buffer;
}

/** The protobuf varint encoding of a non-negative whole number. */
export function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
