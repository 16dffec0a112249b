import { createHash } from 'node:crypto';

/** A fixed-length column value naming a long key (the audit tables index these instead of the keys). */
export function keyHash(key: string): string {
  return createHash('sha1').update(key).digest('hex');
}
