/** Helpers for tests of gRPC services: promise-returning clients and expected failures. */
import { Metadata, type CallOptions, type Client, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** A generated client whose unary methods return promises. */
export type Promisified<C> = {
  [K in keyof C as C[K] extends UnaryMethod<infer _Req, infer _Res> ? K : never]: C[K] extends UnaryMethod<
    infer Req,
    infer Res
  >
    ? (request: Req) => Promise<Res>
    : never;
};

export function promisify<C extends Client>(client: C): Promisified<C> {
  return new Proxy({} as Promisified<C>, {
    get: (_target, name: string) => (request: unknown) =>
      new Promise((resolve, reject) => {
        const method = (client as unknown as Record<string, UnaryMethod<unknown, unknown>>)[name];
        if (!method) throw new Error(`no method ${name}`);
        method.call(client, request, new Metadata(), { deadline: Date.now() + 30_000 }, (err, res) =>
          err ? reject(err) : resolve(res),
        );
      }),
  });
}

/** Runs `action`, expecting a gRPC error, and returns it. */
export async function grpcError(action: Promise<unknown>): Promise<ServiceError> {
  try {
    await action;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
