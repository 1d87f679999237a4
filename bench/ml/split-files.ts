import fs from 'node:fs';
import type { EventColumns, HeldOut, Interactions } from '../../src/ml/train/dataset';

/**
 * The files the outside peers (bench/ml/ease.py) read a split from, and the
 * event subsets the benches build splits of: shared by the offline and the
 * API benchmarks so both hand the peers the same thing.
 */

export function subset(events: EventColumns, keep: (e: number) => boolean): EventColumns {
  const index: number[] = [];
  for (let e = 0; e < events.learner.length; e++) if (keep(e)) index.push(e);
  const pick = <T extends Int32Array | Uint8Array | Float64Array>(column: T): T => {
    const out = new (column.constructor as new (n: number) => T)(index.length);
    index.forEach((e, k) => (out[k] = column[e]));
    return out;
  };
  return { learners: events.learners, items: events.items, learner: pick(events.learner), item: pick(events.item), type: pick(events.type), rating: pick(events.rating), time: pick(events.time) };
}

export function writePairs(file: string, data: Interactions): void {
  const lines = [`# learners=${data.learners} items=${data.items}`, 'learner,item,weight'];
  for (let p = 0; p < data.learner.length; p++) lines.push(`${data.learner[p]},${data.item[p]},${data.weight[p]}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

export function writeHeldOut(file: string, test: HeldOut): void {
  const lines = [`# learners=${test.learners} items=${test.items}`, 'learner,item'];
  for (let l = 0; l < test.learners; l++) for (let p = test.offsets[l]; p < test.offsets[l + 1]; p++) lines.push(`${l},${test.item[p]}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}
