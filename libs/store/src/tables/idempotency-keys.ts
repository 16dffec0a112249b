import { integerOf, jsonOf, type IntegerColumn } from './columns';

/** A row of `idempotency_keys`: the first answer to a mutation, by request id. */
export interface IdempotencyKeyRow {
  readonly request_id: string;
  readonly method: string;
  /** SHA-256 (hex) of the method and the request as first sent. */
  readonly request_hash: string;
  /** The answer, as JSON. */
  readonly response: string;
  readonly created_ms: IntegerColumn;
}

/** The first answer to a request, as stored. */
export interface FirstAnswer<T> {
  readonly requestId: string;
  readonly method: string;
  readonly requestHash: string;
  readonly response: T;
  readonly createMs: number;
}

export function idempotencyKeyRow(answer: FirstAnswer<unknown>): IdempotencyKeyRow {
  return {
    request_id: answer.requestId,
    method: answer.method,
    request_hash: answer.requestHash,
    response: JSON.stringify(answer.response),
    created_ms: answer.createMs,
  };
}

export function firstAnswerOf<T>(row: IdempotencyKeyRow): FirstAnswer<T> {
  return {
    requestId: row.request_id,
    method: row.method,
    requestHash: row.request_hash,
    response: jsonOf<T>(row.response),
    createMs: integerOf(row.created_ms, 'idempotency_keys.created_ms'),
  };
}
