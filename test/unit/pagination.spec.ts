import fc from 'fast-check';
import { checkFirst, containsPattern, decodeCursor, encodeCursor, MAX_PAGE } from '../../src/services/pagination';
import { effectiveRoles, Role } from '../../src/tenancy/roles';

describe('cursors', () => {
  it('round-trip any values of their own list', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 3 }), (values) => {
        expect(decodeCursor('courses', encodeCursor('courses', values), values.length)).toEqual(values);
      }),
    );
  });

  it('refuse cursors of another list, another shape, or garbage', () => {
    const cursor = encodeCursor('learners', ['2026-01-01T00:00:00.000Z', 'id']);
    expect(() => decodeCursor('courses', cursor, 2)).toThrow(/not a cursor of this list/);
    expect(() => decodeCursor('learners', cursor, 3)).toThrow(/not a cursor/);
    for (const junk of ['', '%%%', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1,2,3]').toString('base64url')]) {
      expect(() => decodeCursor('courses', junk, 2)).toThrow(/not a cursor/);
    }
  });

  it('first defaults to 20 and is capped at 100', () => {
    expect(checkFirst(undefined)).toBe(20);
    expect(checkFirst(null)).toBe(20);
    expect(checkFirst(0)).toBe(0);
    expect(checkFirst(MAX_PAGE)).toBe(100);
    for (const bad of [-1, 101, 1.5]) expect(() => checkFirst(bad)).toThrow(/between 0 and 100/);
  });

  it('search patterns match the term literally', () => {
    expect(containsPattern('100%_off\\')).toBe('%100\\%\\_off\\\\%');
  });
});

describe('roles', () => {
  it('imply the roles below them, and nothing across brands', () => {
    expect([...effectiveRoles([Role.OWNER])].sort()).toEqual(['ADMIN', 'ANALYST', 'EDITOR', 'INGEST', 'OWNER']);
    expect([...effectiveRoles([Role.EDITOR])].sort()).toEqual(['ANALYST', 'EDITOR', 'INGEST']);
    expect([...effectiveRoles([Role.INGEST])]).toEqual(['INGEST']);
    expect(effectiveRoles([Role.PLATFORM_ADMIN]).has(Role.OWNER)).toBe(false);
  });
});
