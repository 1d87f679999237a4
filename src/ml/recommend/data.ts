import { EVENT_CODE, type EventColumns } from '../train/dataset';
import type { TenantScope } from '../tenant';

/** Most events one training reads: the newest ones. */
export const MAX_TRAINING_EVENTS = 2_000_000;

/** A brand's interaction events as dense columns, with the ids behind the rows. */
export interface TrainingEvents {
  columns: EventColumns;
  learnerIds: string[];
  courseIds: string[];
}

/**
 * The brand's learner–course interactions (VIEW, CLICK, ENROLL, PURCHASE,
 * COMPLETE, RATING with a course), newest first up to MAX_TRAINING_EVENTS,
 * as the dense integer columns the trainer works on. Courses of any owner
 * count (joint and partner courses the brand's learners touched).
 */
export async function loadTrainingEvents(ctx: TenantScope): Promise<TrainingEvents> {
  const rows: { l: string; c: string; t: string; r: number | null; ms: string }[] = await (await ctx.manager()).query(
    `select e.learner_id as l, e.course_id as c, e.type as t, e.rating as r, (extract(epoch from e.occurred_at) * 1000)::bigint::text as ms
     from events e
     where e.tenant_id = $1 and e.course_id is not null
       and e.type in ('VIEW', 'CLICK', 'ENROLL', 'PURCHASE', 'COMPLETE', 'RATING')
     order by e.occurred_at desc
     limit $2`,
    [ctx.brandId, MAX_TRAINING_EVENTS],
  );
  const learners = new Map<string, number>();
  const courses = new Map<string, number>();
  const n = rows.length;
  const columns: EventColumns = {
    learners: 0,
    items: 0,
    learner: new Int32Array(n),
    item: new Int32Array(n),
    type: new Uint8Array(n),
    rating: new Uint8Array(n),
    time: new Float64Array(n),
  };
  rows.forEach((row, i) => {
    columns.learner[i] = rowOf(learners, row.l);
    columns.item[i] = rowOf(courses, row.c);
    columns.type[i] = EVENT_CODE[row.t as keyof typeof EVENT_CODE];
    columns.rating[i] = row.r ?? 0;
    columns.time[i] = Number(row.ms);
  });
  columns.learners = learners.size;
  columns.items = courses.size;
  return { columns, learnerIds: [...learners.keys()], courseIds: [...courses.keys()] };
}

function rowOf(map: Map<string, number>, id: string): number {
  let row = map.get(id);
  if (row === undefined) {
    row = map.size;
    map.set(id, row);
  }
  return row;
}
