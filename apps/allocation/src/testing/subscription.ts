/** A real Subscribe call on the change stream, collecting what it receives. */
import { credentials, type ServiceError } from '@grpc/grpc-js';
import * as pb from '@inventory/contracts';

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
  let waiters: Array<() => void> = [];
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    call.on('error', (err: ServiceError) => resolve(err));
    call.on('end', () => resolve(undefined));
  });
  void ended.then(() => client.close());
  call.on('data', (response: pb.SubscribeResponse) => {
    if (response.event) events.push(response.event);
    waiters.forEach((wake) => wake());
  });
  return {
    events,
    received: async (count, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        const woken = new Promise<void>((resolve) => waiters.push(resolve));
        const outcome = await Promise.race([
          woken.then(() => 'data' as const),
          ended.then((err) => err ?? new Error('the stream ended')),
          new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), 200)),
        ]);
        waiters = [];
        if (outcome instanceof Error) throw outcome;
        if (Date.now() > deadline) throw new Error(`received ${events.length} events, expected ${count}`);
      }
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
