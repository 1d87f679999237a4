/**
 * The adjusted Rand index (Hubert & Arabie 1985) of two labellings of the
 * same rows: 1 for identical partitions (whatever the label numbers), about
 * 0 for independent ones, negative when worse than chance. Labels are
 * non-negative integers. Two partitions that each put every row in one
 * group (or each row alone) agree perfectly: 1, as scikit-learn.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`labellings of ${n} and ${b.length} rows`);
  if (n < 2) return 1;
  const index = (labels: ArrayLike<number>) => {
    const map = new Map<number, number>();
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let v = map.get(labels[i]);
      if (v === undefined) map.set(labels[i], (v = map.size));
      out[i] = v;
    }
    return { out, size: map.size };
  };
  const ia = index(a);
  const ib = index(b);
  const table = new Float64Array(ia.size * ib.size);
  const rowsA = new Float64Array(ia.size);
  const rowsB = new Float64Array(ib.size);
  for (let i = 0; i < n; i++) {
    table[ia.out[i] * ib.size + ib.out[i]]++;
    rowsA[ia.out[i]]++;
    rowsB[ib.out[i]]++;
  }
  const pairs = (x: number) => (x * (x - 1)) / 2;
  let sumCells = 0;
  for (const x of table) sumCells += pairs(x);
  let sumA = 0;
  for (const x of rowsA) sumA += pairs(x);
  let sumB = 0;
  for (const x of rowsB) sumB += pairs(x);
  const expected = (sumA * sumB) / pairs(n);
  const max = (sumA + sumB) / 2;
  if (max === expected) return 1;
  return (sumCells - expected) / (max - expected);
}
