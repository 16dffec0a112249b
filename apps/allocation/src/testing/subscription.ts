/** A real Subscribe call on the change stream, collecting what it receives. */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';
import { Arrivals } from './arrivals';

export interface Subscription {
  /** Every event received so far, in order. */
  readonly events: pb.ChangeEvent[];
  /** Resolves once at least `count` events have arrived; rejects if the stream fails first or on timeout. */
  received(count: number, timeoutMs?: number): Promise<pb.ChangeEvent[]>;
  /** Resolves with the error the stream ends with; rejects if it ends with OK. */
  failure(): Promise<ServiceError>;
  cancel(): void;
}

export function subscribe(address: string, request: Partial<pb.SubscribeRequest> = {}): Subscription {
  const client = new pb.ChangeStreamServiceClient(address, credentials.createInsecure());
  const call = client.subscribe(pb.SubscribeRequest.fromPartial(request));
  const events: pb.ChangeEvent[] = [];
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    call.on('error', (err: ServiceError) => resolve(err));
    call.on('end', () => resolve(undefined));
  });
  void ended.then(() => client.close());
  const arrivals = new Arrivals(ended);
  call.on('data', (response: pb.SubscribeResponse) => {
    if (response.event) events.push(response.event);
    arrivals.arrived();
  });
  return {
    events,
    received: async (count, timeoutMs = 15_000) => {
      await arrivals.until(
        () => events.length >= count,
        timeoutMs,
        () => `received ${events.length} events, expected ${count}`,
      );
      return events.slice(0, count);
    },
    failure: async () => {
      const err = await ended;
      if (!err) throw new Error('the stream ended with OK');
      return err;
    },
    cancel: () => call.cancel(),
  };
}
