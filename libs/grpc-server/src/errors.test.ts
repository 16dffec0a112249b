import { status, type ServiceError } from '@grpc/grpc-js';
import {
  DatabaseUnavailableError,
  InsufficientAvailabilityError,
  InvalidArgumentError,
  NodeNotFoundError,
} from '@inventory/domain';
import { errorDetails, errorDomainOf, MAX_FIELD_VIOLATIONS, MAX_MESSAGE_LENGTH, toServiceError } from './errors';
import { createLogger } from '@inventory/runtime';

const logger = createLogger('test', 'silent');
const map = (err: unknown) => toServiceError(err, logger, 'Test') as ServiceError;

describe('toServiceError', () => {
  it('maps a domain error to its code with ErrorInfo reason and metadata', () => {
    const err = map(new NodeNotFoundError(['DC9', 'DC7']));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toBe('node not found: DC9, DC7');
    expect(errorDetails(err)).toEqual({
      errorInfo: { reason: 'NODE_NOT_FOUND', domain: 'inventory.v1', metadata: { node_ids: 'DC9,DC7' } },
    });
  });

  it('adds a BadRequest naming every field for invalid arguments', () => {
    const err = map(
      new InvalidArgumentError([
        { field: 'a', description: 'is required' },
        { field: 'b[1]', description: 'must not be negative' },
      ]),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetails(err).badRequest?.fieldViolations).toEqual([
      { field: 'a', description: 'is required' },
      { field: 'b[1]', description: 'must not be negative' },
    ]);
  });

  it('hides anything unexpected behind a generic INTERNAL', () => {
    const err = map(new TypeError("Cannot read properties of undefined (reading 'secret')"));
    expect([err.code, err.details]).toEqual([status.INTERNAL, 'internal error']);
    expect(errorDetails(err).errorInfo?.reason).toBe('INTERNAL');
  });

  it('reports the database failures the store classified as UNAVAILABLE', () => {
    const err = map(
      new DatabaseUnavailableError('CONNECTION_LOST', { cause: new Error('connect ECONNREFUSED 127.0.0.1:3306') }),
    );
    expect([err.code, err.details]).toEqual([status.UNAVAILABLE, 'the database is unavailable; retry later']);
    expect(errorDetails(err).errorInfo).toEqual({
      reason: 'DATABASE_UNAVAILABLE',
      domain: 'inventory.v1',
      metadata: { problem: 'CONNECTION_LOST' },
    });
  });

  it('caps a BadRequest at a few dozen violations plus one counting the rest, and bounds the message', () => {
    const violations = Array.from({ length: 1000 }, (_, i) => ({
      field: `lines[${i}].quantity`,
      description: 'must not be negative',
    }));
    const err = map(new InvalidArgumentError(violations));
    const listed = errorDetails(err).badRequest?.fieldViolations ?? [];
    expect(listed).toHaveLength(MAX_FIELD_VIOLATIONS + 1);
    expect(listed[MAX_FIELD_VIOLATIONS]).toEqual({
      field: '',
      description: `and ${1000 - MAX_FIELD_VIOLATIONS} more violations not listed`,
    });
    expect(err.details.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(err.details).toMatch(/^lines\[0\]\.quantity: must not be negative; lines\[1\]\.quantity: .*; and \d+ more$/);
    expect((err.metadata?.get('grpc-status-details-bin')[0] as Buffer).length).toBeLessThan(4096);
  });

  it('bounds ErrorInfo metadata, saying how many entries it left out', () => {
    const shortfalls = Array.from({ length: 1000 }, (_, i) => ({
      lineIndex: i,
      itemId: `ITEM-${i}`,
      location: 'DC1',
      requested: 2,
      available: 1,
      own: 1,
      borrowable: 0,
    }));
    const err = map(new InsufficientAvailabilityError(shortfalls));
    const metadata = errorDetails(err).errorInfo?.metadata ?? {};
    expect(Number(metadata['omitted_entries'])).toBeGreaterThan(3900);
    expect((err.metadata?.get('grpc-status-details-bin')[0] as Buffer).length).toBeLessThan(4096);
  });
});

describe('errorDomainOf', () => {
  it("names the package of the method's service", () => {
    expect(errorDomainOf('/audit.v1.AuditService/ListSupplyAudit')).toBe('audit.v1');
    expect(errorDomainOf('/inventory.v1.SupplyService/SyncSupply')).toBe('inventory.v1');
    expect(errorDomainOf(undefined)).toBe('inventory.v1');
  });
});
