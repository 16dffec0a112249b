import { status as grpcStatus, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type * as pb from '@inventory/contracts';
import { Violations, type Clock, type LoanObservation, type SupplyAuditRecord } from '@inventory/domain';
import type { Logger } from '@inventory/runtime';
import {
  readConsumerPosition,
  rebuildAudit,
  storeAuditBatch,
  type Database,
  type RebuildResult,
} from '@inventory/store';
import { auditRecordOf, loanObservationOf } from '../grpc/translate';

export type ConsumerState = 'CONNECTING' | 'STREAMING' | 'RECONNECTING' | 'BEHIND_RETENTION' | 'STOPPED';

export interface ConsumerStatus {
  readonly state: ConsumerState;
  readonly consumedSequence: number;
  readonly reconnectAttempts: number;
  readonly lastError: string;
  readonly lastStoredMs: number | null;
  readonly recordsStored: number;
}

export interface ConsumerOptions {
  /** Most records stored in one transaction. */
  readonly batchSize: number;
  /** The longest wait between two attempts to reach the allocation app. */
  readonly reconnectMaxMs: number;
}

/** The events that become supply audit records: supply lines, and positions (for the segments' loans). */
const EVENT_TYPES = ['supply_changed', 'supply_ignored', 'position_availability_changed'];
const FIRST_RECONNECT_MS = 100;
/**
 * How long one attempt waits for the allocation app's channel to connect. The channel itself reconnects with
 * the same backoff as the consumer (see startAuditService); an attempt that times out only counts and waits.
 */
const CONNECT_TIMEOUT_MS = 1000;

/**
 * Consumes the allocation app's change stream into supply audit records. It subscribes after the position
 * stored with the last batch, gathers what arrives while a batch is being stored into the next one, and
 * stores each batch with its last position in one transaction (storeAuditBatch): a crash loses nothing
 * committed and stores nothing twice. While a batch is stored, more than two batches' worth of waiting
 * records pause the stream (grpc flow control then holds the server back). When the stream fails it waits
 * 0.1 s, then twice as long each time up to `reconnectMaxMs`, with jitter, and subscribes again from what
 * it stored. When retention has trimmed events it has not stored, it stops (BEHIND_RETENTION) until
 * {@link rebuild}.
 */
export class ChangeStreamConsumer {
  private state: ConsumerState = 'CONNECTING';
  private consumedSequence = 0;
  private reconnectAttempts = 0;
  private lastError = '';
  private lastStoredMs: number | null = null;
  private recordsStored = 0;
  private call: ClientReadableStream<pb.SubscribeResponse> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Set while a rebuild holds the consumer still. */
  private held: Hold | undefined;
  private wake: (() => void) | undefined;
  private rebuilds: Promise<unknown> = Promise.resolve();
  private onStreamingChange: (streaming: boolean) => void = () => undefined;

  constructor(
    private readonly db: Database,
    private readonly client: pb.ChangeStreamServiceClient,
    private readonly clock: Clock,
    private readonly options: ConsumerOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts consuming; `onStreamingChange` hears when it starts or stops streaming (for health). */
  start(onStreamingChange: (streaming: boolean) => void = () => undefined): void {
    this.onStreamingChange = onStreamingChange;
    this.running ??= this.run();
  }

  status(): ConsumerStatus {
    return {
      state: this.state,
      consumedSequence: this.consumedSequence,
      reconnectAttempts: this.reconnectAttempts,
      lastError: this.lastError,
      lastStoredMs: this.lastStoredMs,
      recordsStored: this.recordsStored,
    };
  }

  /**
   * Deletes every record and consumes the stream again from the oldest event it holds: ends the current
   * subscription, waits for the batch being stored, rebuilds, and lets the consumer subscribe again.
   */
  rebuild(requestId: string): Promise<RebuildResult> {
    const v = new Violations();
    v.requestId('request_id', requestId);
    v.throwIfAny();
    const result = this.rebuilds.then(async () => {
      if (this.stopped) throw new Error('the audit app is stopping');
      const hold = new Hold();
      this.held = hold;
      this.call?.cancel();
      this.wake?.();
      try {
        // The run loop finishes its subscription (storing what it received) before it parks.
        await hold.parked;
        const rebuilt = await rebuildAudit(this.db, requestId);
        this.logger.info({ requestId, ...rebuilt }, 'audit records deleted; consuming the change stream again');
        this.consumedSequence = 0;
        this.lastStoredMs = null;
        return rebuilt;
      } finally {
        this.held = undefined;
        hold.release();
      }
    });
    this.rebuilds = result.catch(() => undefined);
    return result;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.call?.cancel();
    this.wake?.();
    await this.running;
    this.setState('STOPPED');
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.held) {
        await this.held.park();
        this.reconnectAttempts = 0;
        this.setState('CONNECTING');
        continue;
      }
      let failure: unknown;
      try {
        await this.consumeOnce();
      } catch (err) {
        failure = err;
      }
      if (this.stopped || this.held) continue;
      this.lastError = describe(failure);
      if (isTrimmed(failure)) {
        this.setState('BEHIND_RETENTION');
        this.logger.error(
          { consumedSequence: this.consumedSequence, err: this.lastError },
          'the change stream no longer holds events the audit has not stored; call AuditAdminService.RebuildAudit',
        );
        await this.pause(Number.POSITIVE_INFINITY);
        continue;
      }
      this.reconnectAttempts++;
      this.setState('RECONNECTING');
      const waitMs = this.backoffMs();
      this.logger.warn(
        { attempt: this.reconnectAttempts, waitMs, err: this.lastError },
        'change stream unavailable; subscribing again after a pause',
      );
      await this.pause(waitMs);
    }
  }

  /** Subscribes after the stored position and stores what arrives until the stream fails. */
  private async consumeOnce(): Promise<void> {
    const position = await readConsumerPosition(this.db);
    this.consumedSequence = position.consumedSequence;
    this.lastStoredMs = position.storedMs;
    await new Promise<void>((resolve, reject) =>
      this.client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => (err ? reject(err) : resolve())),
    );
    if (this.stopped || this.held) return;
    const call = this.client.subscribe({
      afterSequence: this.consumedSequence,
      eventTypes: EVENT_TYPES,
      itemIds: [],
      nodeIds: [],
      segments: [],
    });
    this.call = call;
    this.setState('STREAMING');
    this.reconnectAttempts = 0;
    this.lastError = '';
    // Supply records and loan observations, in stream order.
    const waiting: Array<SupplyAuditRecord | LoanObservation> = [];
    let storing: Promise<void> | undefined;
    let storeFailure: unknown;
    const storeWaiting = async () => {
      while (waiting.length > 0 && storeFailure === undefined) {
        const batch = waiting.splice(0, this.options.batchSize);
        if (call.isPaused() && waiting.length <= this.options.batchSize) call.resume();
        const last = (batch[batch.length - 1] as SupplyAuditRecord | LoanObservation).sequence;
        try {
          const storedMs = this.clock();
          const stored = await storeAuditBatch(
            this.db,
            {
              records: batch.filter((e): e is SupplyAuditRecord => 'purpose' in e),
              loans: batch.filter((e): e is LoanObservation => 'borrowed' in e),
            },
            this.consumedSequence,
            last,
            storedMs,
          );
          this.consumedSequence = last;
          this.lastStoredMs = storedMs;
          this.recordsStored += stored;
        } catch (err) {
          storeFailure = err;
          call.cancel();
        }
      }
      storing = undefined;
    };
    const ended = new Promise<unknown>((resolve) => {
      call.on('data', (response: pb.SubscribeResponse) => {
        if (!response.event || storeFailure !== undefined) return;
        try {
          const receiveMs = this.clock();
          const entry = auditRecordOf(response.event, receiveMs) ?? loanObservationOf(response.event, receiveMs);
          if (!entry) return;
          waiting.push(entry);
        } catch (err) {
          storeFailure = err;
          call.cancel();
          return;
        }
        if (waiting.length > 2 * this.options.batchSize) call.pause();
        storing ??= storeWaiting();
      });
      call.on('error', (err: ServiceError) => resolve(err));
      call.on('end', () => resolve(new Error('the change stream ended')));
    });
    const streamError = await ended;
    this.call = undefined;
    // What arrived before the stream ended is stored before anything else happens.
    while (storing) await storing;
    if (storeFailure !== undefined) throw storeFailure;
    if (this.stopped || this.held) return;
    throw streamError;
  }

  private backoffMs(): number {
    const ceiling = Math.min(this.options.reconnectMaxMs, FIRST_RECONNECT_MS * 2 ** (this.reconnectAttempts - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** Waits `ms`, or until stop or a rebuild wakes it. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = undefined;
    });
  }

  private setState(state: ConsumerState): void {
    if (state === this.state) return;
    const wasStreaming = this.state === 'STREAMING';
    this.state = state;
    if (wasStreaming !== (state === 'STREAMING')) this.onStreamingChange(state === 'STREAMING');
  }
}

function isTrimmed(err: unknown): boolean {
  return (err as Partial<ServiceError> | undefined)?.code === grpcStatus.OUT_OF_RANGE;
}

function describe(err: unknown): string {
  if (err === undefined) return '';
  const { code, details } = err as Partial<ServiceError>;
  if (code !== undefined) return `${grpcStatus[code]}: ${details ?? ''}`;
  return err instanceof Error ? err.message : String(err);
}

/** A rebuild's hold on the run loop: the loop parks, the rebuild works, then releases it. */
class Hold {
  private parkedNow!: () => void;
  private releasedNow!: () => void;
  readonly parked = new Promise<void>((resolve) => (this.parkedNow = resolve));
  private readonly released = new Promise<void>((resolve) => (this.releasedNow = resolve));

  /** Called by the run loop: says it is parked and waits for the release. */
  park(): Promise<void> {
    this.parkedNow();
    return this.released;
  }

  release(): void {
    this.releasedNow();
  }
}
