/**
 * The hot-borrow scenario's side of "nothing oversold": what the positions say about loans, written
 * against the store's schema (`stock_positions`: per item, node and segment, `supply`, `demand`,
 * `reserved` and `loan`; the unsegmented pool has both segment columns empty). Whoever changes that table
 * adjusts the SQL here. Every segment of the scenario may borrow without a cap.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { check, type Check } from './check';

interface LoanRow extends RowDataPacket {
  item_id: string;
  node_id: string;
  segment: string;
  loan: number | string;
  expected: number | string;
}

interface TotalRow extends RowDataPacket {
  n: number | string | null;
}

/** `borrowed`: the units the run's successes must have borrowed (the segment has no supply of its own). */
export async function checkLoans(db: Connection, run: { readonly borrowed: number }): Promise<Check[]> {
  // A borrowing segment owes the pool what its commitments exceed its own supply by.
  const [segments] = await db.query<LoanRow[]>(
    `SELECT item_id, node_id, segment, loan, GREATEST(0, demand + reserved - supply) AS expected
       FROM stock_positions
      WHERE segment_type <> '' AND loan <> GREATEST(0, demand + reserved - supply)
      LIMIT 10`,
  );
  // The pool's loan is the sum of its segments' loans at the item-node.
  const [pools] = await db.query<LoanRow[]>(
    `SELECT p.item_id, p.node_id, '' AS segment, p.loan, COALESCE(SUM(s.loan), 0) AS expected
       FROM stock_positions p
       LEFT JOIN stock_positions s
         ON s.item_id = p.item_id AND s.unit_of_measure = p.unit_of_measure AND s.product_class = p.product_class
        AND s.node_id = p.node_id AND s.segment_type <> ''
      WHERE p.segment_type = '' AND p.segment = ''
      GROUP BY p.position_id, p.item_id, p.node_id, p.loan
     HAVING p.loan <> COALESCE(SUM(s.loan), 0)
      LIMIT 10`,
  );
  // The pool never lends or holds more than it has.
  const [overlent] = await db.query<LoanRow[]>(
    `SELECT item_id, node_id, '' AS segment, loan, supply - demand - reserved AS expected
       FROM stock_positions
      WHERE segment_type = '' AND segment = '' AND demand + reserved + loan > supply
      LIMIT 10`,
  );
  const [[lent]] = await db.query<TotalRow[]>(
    "SELECT SUM(loan) AS n FROM stock_positions WHERE segment_type = '' AND segment = ''",
  );
  const list = (rows: readonly LoanRow[], what: string) =>
    rows
      .map((r) => `${r.item_id}@${r.node_id} ${r.segment || 'pool'}: loan ${r.loan}, ${what} ${r.expected}`)
      .join('; ');
  return [
    check(
      'segment loans = what they hold beyond their own supply',
      segments.length === 0,
      segments.length === 0 ? 'every segment position agrees' : list(segments, 'owes'),
    ),
    check(
      'pool loan = sum of its segments loans',
      pools.length === 0,
      pools.length === 0 ? 'every pool position agrees' : list(pools, 'segments owe'),
    ),
    check(
      'pool demand + held + lent <= supply (nothing oversold)',
      overlent.length === 0,
      overlent.length === 0 ? 'no pool over-committed' : list(overlent, 'free before lending'),
    ),
    check(
      'units lent = successes',
      Number(lent.n ?? 0) === run.borrowed,
      `${Number(lent.n ?? 0)} lent, ${run.borrowed} successes`,
    ),
  ];
}
