import { status, type ServiceError } from '@grpc/grpc-js';
import { InvalidArgumentError, NodeNotFoundError } from '@inventory/domain';
import { errorDetails, toServiceError } from './errors';
import { createLogger } from '@inventory/runtime';

const logger = createLogger('test', 'silent');
const map = (err: unknown) => toServiceError(err, logger, 'Test') as ServiceError;

describe('toServiceError', () => {
  it('maps a domain error to its code with ErrorInfo reason and metadata', () => {
    const err = map(new NodeNotFoundError(['DC9', 'DC7']));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toBe('node not found: DC9, DC7');
    expect(errorDetails(err)).toEqual({ errorInfo: { reason: 'NODE_NOT_FOUND', domain: 'inventory.v1', metadata: { node_ids: 'DC9,DC7' } } });
  });

  it('adds a BadRequest naming every field for invalid arguments', () => {
    const err = map(new InvalidArgumentError([{ field: 'a', description: 'is required' }, { field: 'b[1]', description: 'must not be negative' }]));
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

  it('reports an unreachable database as UNAVAILABLE', () => {
    const err = map(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }));
    expect([err.code, err.details]).toEqual([status.UNAVAILABLE, 'the database is unavailable; retry later']);
  });
});
