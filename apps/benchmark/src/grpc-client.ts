/**
 * The one gRPC client set-up used for every gRPC target (the echo baseline B2 and the service), so that
 * both are measured through the same channel options, credentials and call path: one channel per server,
 * shared by every client and every caller, one HTTP/2 connection.
 */
import {
  Channel,
  connectivityState,
  credentials,
  Metadata,
  status,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientOptions,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { ErrorInfo, Status } from '@inventory/contracts';

/** The same limits the service's server sets, so neither side truncates a large message. */
const CHANNEL_OPTIONS: ChannelOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };

/** No benchmark call should ever take this long; if one does, it fails as DEADLINE_EXCEEDED rather than hang the run. */
const CALL_TIMEOUT_MS = 30_000;

/**
 * Opens the channel to `address`; make every client of that server with {@link clientOn}. grpc-js shares
 * one connection among the channels to a server with the same options; `ownConnection` gives this channel
 * a subchannel pool, and so an HTTP/2 connection, of its own (the watch scenario spreads its watchers over
 * several connections).
 */
export function openChannel(address: string, ownConnection = false): Channel {
  const options = ownConnection ? { ...CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 } : CHANNEL_OPTIONS;
  return new Channel(address, credentials.createInsecure(), options);
}

/** Connects `channel` now (channels connect lazily, on their first call); rejects if it is not READY in time. */
export function connectChannel(channel: Channel, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const wait = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve();
      channel.watchConnectivityState(state, deadline, (err) =>
        err ? reject(new Error(`no connection to ${channel.getTarget()} within ${timeoutMs / 1000} s`)) : wait(),
      );
    };
    wait();
  });
}

/** A client constructor: generated (NodeServiceClient, ...) or made by makeGenericClientConstructor. */
export type ClientConstructor<C> = new (
  address: string,
  creds: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => C;

/**
 * A client of `Client` that uses `channel` (opened by {@link openChannel}) instead of opening its own.
 * Close the channel, not the client: grpc-js closes a client by closing its channel, shared or not.
 */
export function clientOn<C>(Client: ClientConstructor<C>, channel: Channel): C {
  return new Client(channel.getTarget(), credentials.createInsecure(), { channelOverride: channel });
}

/** The full-form signature of a generated (or generic) client's unary method. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** Makes one unary call with the benchmark's deadline; resolves to the response, rejects with the ServiceError. */
export function callUnary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/**
 * Names a gRPC failure by status code and, when the service sent a google.rpc.Status with an ErrorInfo in
 * the `grpc-status-details-bin` trailer, its reason: "FAILED_PRECONDITION/INSUFFICIENT_AVAILABILITY".
 */
export function describeGrpcFailure(error: unknown): string {
  const err = error as Partial<ServiceError>;
  if (typeof err.code !== 'number') return error instanceof Error ? error.message : String(error);
  const code = status[err.code] ?? `CODE_${err.code}`;
  const reason = errorInfoReason(err);
  return reason ? `${code}/${reason}` : code;
}

function errorInfoReason(err: Partial<ServiceError>): string | undefined {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return undefined;
  try {
    const info = Status.decode(raw).details.find((any) => any.typeUrl.endsWith('/google.rpc.ErrorInfo'));
    return info ? ErrorInfo.decode(info.value).reason || undefined : undefined;
  } catch {
    return undefined;
  }
}
