import { Principal } from '../tenancy/principal';
import type { RunAs } from '../tenancy/run-as';
import type { Transact } from './runner';

/** The runner's way into a job's brand: `runAs` with a system principal named for the job (`system:job <kind>`). */
export function systemTransact(runAs: RunAs): Transact {
  return (brandId, purpose, work) => runAs(Principal.system(brandId, purpose), async (ctx) => work(await ctx.manager()));
}
