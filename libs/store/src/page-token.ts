import { InvalidArgumentError } from '@inventory/domain';

/**
 * Opaque keyset page tokens: the position after which the next page starts, with the filters it was made
 * for, so that a token cannot be replayed against a different query.
 */
export function encodePageToken(after: string | number, filters: string): string {
  return Buffer.from(JSON.stringify({ a: after, f: filters })).toString('base64url');
}

export function decodePageToken<T extends string | number>(token: string, filters: string, initial: T): T {
  if (token === '') return initial;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { a?: unknown; f?: unknown };
    if (typeof parsed.a === typeof initial && parsed.f === filters) return parsed.a as T;
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError([
    { field: 'page_token', description: 'is not a token this list returned for these filters' },
  ]);
}

/** Given one row more than the page size, the page and the token for the next one. */
export function page<T>(rows: T[], pageSize: number, positionOf: (row: T) => string | number, filters: string) {
  const items = rows.slice(0, pageSize);
  const more = rows.length > pageSize;
  return { items, nextPageToken: more ? encodePageToken(positionOf(items[items.length - 1] as T), filters) : '' };
}
