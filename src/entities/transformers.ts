import type { ValueTransformer } from 'typeorm';

/** bigint columns arrive from `pg` as strings; money stays within ±(2^53 − 1), checked by the database. */
export const bigintToNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => {
    if (value === null) return null;
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} exceeds the safe integer range`);
    return n;
  },
};
