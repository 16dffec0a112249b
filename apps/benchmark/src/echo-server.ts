/**
 * The bare grpc-js server of baseline B2, run in a child process like the real service. It has one unary
 * method over raw bytes (identity serializers, no protobuf work) that answers every call with a
 * ReserveResponse-sized message: whatever the service costs beyond this is its own work, not the RPC layer's.
 */
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { sampleResponseBytes } from './reserve-messages';

/** The flag that makes the benchmark's bundle run as the echo server instead. */
export const ECHO_SERVER_FLAG = '--echo-server';

/** The line the echo server prints once it listens; the port follows. */
export const ECHO_READY = 'echo server listening on port ';

const identity = (bytes: Buffer): Buffer => bytes;

/** A service of one raw-bytes unary method, /bench.Echo/Echo. Shared by the server and the client. */
export const ECHO_SERVICE = {
  echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies ServiceDefinition;

/** Serves until SIGTERM; prints {@link ECHO_READY} and the port once bound. */
export async function runEchoServer(): Promise<void> {
  // The same receive limit as the service's server.
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const response = Buffer.from(sampleResponseBytes());
  const implementation: UntypedServiceImplementation = {
    echo: (_call: unknown, callback: (error: null, value: Buffer) => void) => callback(null, response),
  };
  server.addService(ECHO_SERVICE, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  process.stdout.write(`${ECHO_READY}${port}\n`);
  process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}
