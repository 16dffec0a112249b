/** A real WatchAvailability call, collecting its messages and the figures they add up to. */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { Arrivals } from './arrivals';

export interface Watcher {
  /** Every message received so far, in order. */
  readonly messages: pb.WatchAvailabilityResponse[];
  /** The latest update per position (item/node/segment, see {@link positionId}) from every message so far. */
  readonly latest: Map<string, pb.AvailabilityUpdate>;
  /** The resume token of the last message that carried one. */
  readonly token: () => string;
  /** Resolves once `check` holds (it is checked after every message); rejects if the stream ends first or on timeout. */
  until(check: () => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once the snapshot is complete. */
  snapshot(): Promise<pb.AvailabilityUpdate[]>;
  /** Resolves with the error the stream ends with; rejects if it ends with OK. */
  failure(): Promise<ServiceError>;
  /** Stops reading (the server's sends back up) or starts again. */
  pause(): void;
  resume(): void;
  cancel(): void;
}

/** Identifies a position: item id, node and segment (type/segment; "/" for the pool). */
export const positionId = (p: pb.PositionAvailabilityChanged | undefined) =>
  `${p?.item?.itemId}@${p?.nodeId}:${p?.segment?.segmentType ?? ''}/${p?.segment?.segment ?? ''}`;

export function watchAvailability(
  address: string,
  request: Partial<pb.WatchAvailabilityRequest>,
  options: Record<string, number> = {},
): Watcher {
  const client = new pb.AvailabilityServiceClient(address, credentials.createInsecure(), options);
  const call = client.watchAvailability(pb.WatchAvailabilityRequest.fromPartial(request));
  const messages: pb.WatchAvailabilityResponse[] = [];
  const latest = new Map<string, pb.AvailabilityUpdate>();
  let token = '';
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    call.on('error', (err: ServiceError) => resolve(err));
    call.on('end', () => resolve(undefined));
  });
  void ended.then(() => client.close());
  const arrivals = new Arrivals(ended);
  call.on('data', (message: pb.WatchAvailabilityResponse) => {
    messages.push(message);
    for (const update of message.updates) latest.set(positionId(update.position), update);
    if (message.resumeToken) token = message.resumeToken;
    arrivals.arrived();
  });
  const until = (check: () => boolean, timeoutMs = 15_000) =>
    arrivals.until(check, timeoutMs, () => `${messages.length} messages received`);
  return {
    messages,
    latest,
    token: () => token,
    until,
    snapshot: async () => {
      await until(() => messages.some((m) => m.snapshotComplete));
      return messages.filter((m) => m.snapshot).flatMap((m) => m.updates);
    },
    failure: async () => {
      const err = await ended;
      if (!err) throw new Error('the stream ended with OK');
      return err;
    },
    pause: () => call.pause(),
    resume: () => call.resume(),
    cancel: () => call.cancel(),
  };
}
