/**
 * The bare grpc-js server of the watch scenario's baseline, run in a child process like the real service.
 * Watch is a server-streaming method: a watcher names a topic (an item), gets one snapshot message and then
 * every message published to that topic. Publish is a unary method that writes its message to every open
 * watch of its topic. Both move raw bytes (identity serializers): no database, no protobuf work, no
 * coalescing; whatever the service costs beyond this is its own work, not the RPC layer's.
 */
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { WatchAvailabilityResponse } from '@inventory/contracts';
import { snapshotMessage } from './watch-messages';

/** The flag that makes the benchmark's bundle run as the fan-out server instead. */
export const FANOUT_SERVER_FLAG = '--watch-fanout-server';

/** The line the fan-out server prints once it listens; the port follows. */
export const FANOUT_READY = 'watch fan-out server listening on port ';

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * /bench.Fanout/Watch (request: the topic as a 4-byte unsigned integer) and /bench.Fanout/Publish
 * (request: the topic, then the message to fan out; empty answer). Shared by the server and the client;
 * the client decodes what Watch streams as WatchAvailabilityResponse, as the service's generated client does.
 */
export const FANOUT_SERVICE = {
  watch: {
    path: '/bench.Fanout/Watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: (bytes: Buffer): WatchAvailabilityResponse => WatchAvailabilityResponse.decode(bytes),
  },
  publish: {
    path: '/bench.Fanout/Publish',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies ServiceDefinition;

/** A Watch request for `topic`. */
export function watchTopic(topic: number): Buffer {
  const request = Buffer.alloc(4);
  request.writeUInt32BE(topic, 0);
  return request;
}

/** A Publish request: `message` for the watchers of `topic`. */
export function publishRequest(topic: number, message: Uint8Array): Buffer {
  return Buffer.concat([watchTopic(topic), message]);
}

/**
 * The keepalive the contract gives the service's server by default (a ping every 60 s on each connection,
 * closed when unanswered for 20 s), so that both servers hold idle connections alike.
 */
const KEEPALIVE = { 'grpc.keepalive_time_ms': 60_000, 'grpc.keepalive_timeout_ms': 20_000 };

/** Serves until SIGTERM; prints {@link FANOUT_READY} and the port once bound. */
export async function runFanoutServer(): Promise<void> {
  // The same receive limit as the service's server.
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, ...KEEPALIVE });
  const watchers = new Map<number, Set<ServerWritableStream<Buffer, Buffer>>>();
  const snapshots = new Map<number, Buffer>();
  const implementation: UntypedServiceImplementation = {
    watch: (call: ServerWritableStream<Buffer, Buffer>) => {
      const topic = call.request.readUInt32BE(0);
      let open = watchers.get(topic);
      if (!open) watchers.set(topic, (open = new Set()));
      open.add(call);
      call.once('cancelled', () => open.delete(call));
      let snapshot = snapshots.get(topic);
      if (!snapshot) snapshots.set(topic, (snapshot = Buffer.from(snapshotMessage(topic))));
      call.write(snapshot);
    },
    publish: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const message = call.request.subarray(4);
      for (const watcher of watchers.get(call.request.readUInt32BE(0)) ?? []) watcher.write(message);
      callback(null, Buffer.alloc(0));
    },
  };
  server.addService(FANOUT_SERVICE, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  process.stdout.write(`${FANOUT_READY}${port}\n`);
  process.once('SIGTERM', () => {
    // Open watches never end by themselves: end them so that the shutdown does not wait for the clients.
    for (const open of watchers.values()) for (const watcher of open) watcher.end();
    server.tryShutdown(() => process.exit(0));
  });
}
