import { DomainError, type ActionRef, type ErrorCategory } from '@inventory/domain';

/** Thrown when no stored record has the action asked for: it may not exist, or not be consumed yet. */
export class AuditActionNotFoundError extends DomainError {
  readonly category = 'NOT_FOUND';
  readonly reason = 'AUDIT_ACTION_NOT_FOUND';

  constructor(readonly ref: ActionRef) {
    super(
      'actionId' in ref
        ? `no audit record has action id ${ref.actionId}`
        : `no audit record of a caller's request has request id ${ref.requestId}`,
    );
  }

  override get metadata(): Record<string, string> {
    return 'actionId' in this.ref ? { action_id: this.ref.actionId } : { request_id: this.ref.requestId };
  }
}

/** Thrown when a count cannot be checked because the records may not be current (the consumer is not streaming). */
export class AuditNotCurrentError extends DomainError {
  readonly category = 'FAILED_PRECONDITION';
  readonly reason = 'AUDIT_NOT_CURRENT';

  constructor() {
    super(
      'the audit app is not following the change stream, so its records may miss changes before the count: see AuditAdminService.GetConsumerStatus and try again once it streams',
    );
  }
}

/** Thrown when the allocation app cannot be reached to post an adjustment; nothing changed. */
export class InventoryUnavailableError extends DomainError {
  readonly category = 'UNAVAILABLE';
  readonly reason = 'INVENTORY_UNAVAILABLE';

  constructor(readonly detail: string) {
    super(`the allocation app cannot be reached: ${detail}; nothing was changed, try again`);
  }
}

/** The allocation app's refusal of a request, passed on with its category, reason and metadata. */
export class InventoryRefusedError extends DomainError {
  constructor(
    readonly category: ErrorCategory,
    readonly reason: string,
    message: string,
    private readonly details: Record<string, string>,
  ) {
    super(`the allocation app refused: ${message}`);
  }

  override get metadata(): Record<string, string> {
    return this.details;
  }
}
