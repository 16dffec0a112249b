/**
 * The watch scenario's baseline: the bare grpc-js fan-out server (watch-fanout-server.ts) in a child
 * process. Watchers watch an item's topic; a change is one Publish of a change message of the item at its
 * next supply, over a channel of its own as the service's changes are.
 */
import { type Channel, makeGenericClientConstructor, type ClientReadableStream } from '@grpc/grpc-js';
import type { WatchAvailabilityResponse } from '@inventory/contracts';
import { spawnNodeServer, type ChildServer } from './child-server';
import { callUnary, clientOn, openChannel, type UnaryMethod } from './grpc-client';
import type { Commit } from './watch-latency';
import { FANOUT_READY, FANOUT_SERVER_FLAG, FANOUT_SERVICE, publishRequest, watchTopic } from './watch-fanout-server';
import { WATCH_SEED_SUPPLY, type FanoutMessages } from './watch-messages';
import type { MemoryProbe } from './watch-memory';
import type { WatchTarget } from './watchers';

const FanoutClient = makeGenericClientConstructor(FANOUT_SERVICE, 'bench.Fanout');

interface FanoutClientMethods {
  watch(request: Buffer): ClientReadableStream<WatchAvailabilityResponse>;
  publish: UnaryMethod<Buffer, Buffer>;
}

/** The running fan-out server. */
export class FanoutServer implements MemoryProbe {
  private constructor(
    private readonly server: ChildServer,
    /** host:port it listens on. */
    readonly address: string,
  ) {}

  /** Starts the benchmark's own bundle in fan-out mode, with the GC hook, and waits until it listens. */
  static async start(): Promise<FanoutServer> {
    const server = spawnNodeServer('watch-fanout', [__filename, FANOUT_SERVER_FLAG], {}, { gcHook: true });
    try {
      const port = await Promise.race([
        new Promise<number>((resolve) =>
          server.onLine((line) => line.startsWith(FANOUT_READY) && resolve(Number(line.slice(FANOUT_READY.length)))),
        ),
        server.died,
      ]);
      return new FanoutServer(server, `127.0.0.1:${port}`);
    } catch (err) {
      await server.stop();
      throw err;
    }
  }

  /** Watches of the item's topic, one client per channel. */
  target(): WatchTarget {
    return {
      address: this.address,
      watchOn: (channel: Channel) => {
        const client = clientOn(FanoutClient, channel) as unknown as FanoutClientMethods;
        return (item) => client.watch(watchTopic(item));
      },
    };
  }

  /**
   * Changes over `channel`: each publishes the item's change message at its next supply (counted here from
   * the seeded supply, one unit per change, as the service's AdjustSupply +1 does) and resolves to it.
   */
  commit(channel: Channel, messages: FanoutMessages): Commit {
    const client = clientOn(FanoutClient, channel) as unknown as FanoutClientMethods;
    const publish = client.publish.bind(client);
    const supply = new Map<number, number>();
    return async (item) => {
      const next = (supply.get(item) ?? WATCH_SEED_SUPPLY) + 1;
      supply.set(item, next);
      await callUnary(publish, publishRequest(item, messages.change(item, next)));
      return next;
    };
  }

  /** A channel with a connection of its own, for the changes. */
  channel(): Channel {
    return openChannel(this.address, true);
  }

  cpuSeconds(): number | undefined {
    return this.server.cpuSeconds();
  }

  rssBytes(): number | undefined {
    return this.server.rssBytes();
  }

  collectGarbage(): Promise<NodeJS.MemoryUsage | undefined> {
    return this.server.collectGarbage();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
