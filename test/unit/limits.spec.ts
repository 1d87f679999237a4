import 'reflect-metadata';
import { buildAlliedSchema } from '../../src/resolvers';
import { unsizedLists } from '../../src/limits/document';

describe('cost model', () => {
  it('knows the size of every list of objects without a first argument', async () => {
    // A new list field must get an entry in LIST_SIZES, or the estimate would count it as a full page.
    expect(unsizedLists(await buildAlliedSchema())).toEqual([]);
  });
});
