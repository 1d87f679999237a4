import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layering of src/ (see the layout in ../shared/DESIGN.md), read from the
 * import statements themselves, type-only imports included: a type import
 * is still a dependency a reader has to follow.
 */

const SRC = path.resolve(__dirname, '../../src');

interface Module {
  file: string;
  /** Files under src/ this one imports. */
  local: string[];
  /** Of those, the ones imported for values (loaded at run time). */
  runtime: string[];
  /** Packages this one imports, with whether the import is for types only. */
  packages: { name: string; typeOnly: boolean }[];
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveLocal(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  return null;
}

function readModule(file: string): Module {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const local: string[] = [];
  const runtime: string[] = [];
  const packages: Module['packages'] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (spec.startsWith('.')) {
      const target = resolveLocal(file, spec);
      if (target?.startsWith(SRC)) {
        local.push(target);
        if (!typeOnly) runtime.push(target);
      }
    } else if (!spec.startsWith('node:')) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      packages.push({ name, typeOnly });
    }
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(statement.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      add(statement.moduleSpecifier.text, statement.isTypeOnly);
    }
  }
  return { file, local, runtime, packages };
}

const modules = new Map(sourceFiles(SRC).map((f) => [f, readModule(f)]));
const rel = (file: string) => path.relative(SRC, file);
const layer = (file: string) => rel(file).split(path.sep)[0];

/** Strongly connected components with more than one file (Tarjan). */
function cycles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of modules.get(v)?.local ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(rel(w));
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const file of modules.keys()) if (!indices.has(file)) visit(file);
  return found;
}

/** Every file reachable from `file` through local imports (type-only ones too, unless `runtimeOnly`). */
function reachable(file: string, runtimeOnly = false): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string) => {
    const m = modules.get(f);
    for (const next of (runtimeOnly ? m?.runtime : m?.local) ?? []) if (!seen.has(next)) (seen.add(next), walk(next));
  };
  walk(file);
  return seen;
}

describe('the import graph of src/', () => {
  it('reads every source file', () => {
    expect(modules.size).toBeGreaterThan(50);
    expect([...modules.values()].some((m) => m.local.length > 0)).toBe(true);
  });

  it('has no import circle', () => {
    expect(cycles()).toEqual([]);
  });

  it('keeps schema/ free of services/ and resolvers/', () => {
    const offending = [...modules.values()]
      .filter((m) => layer(m.file) === 'schema')
      .flatMap((m) => [...reachable(m.file)].filter((f) => ['services', 'resolvers'].includes(layer(f))).map((f) => `${rel(m.file)} → ${rel(f)}`));
    expect(offending).toEqual([]);
  });

  it('keeps ml/ below services: it never imports services/, resolvers/ or schema/', () => {
    const offending = [...modules.values()]
      .filter((m) => layer(m.file) === 'ml')
      .flatMap((m) => [...reachable(m.file)].filter((f) => ['services', 'resolvers', 'schema'].includes(layer(f))).map((f) => `${rel(m.file)} → ${rel(f)}`));
    expect(offending).toEqual([]);
  });

  it('keeps graphql out of services/ (errors are mapped at the edge)', () => {
    const GRAPHQL = ['graphql', 'type-graphql', '@apollo/server', 'graphql-ws', 'graphql-scalars'];
    const offending = [...modules.values()]
      .filter((m) => layer(m.file) === 'services')
      .flatMap((m) =>
        [m.file, ...reachable(m.file, true)].flatMap((f) =>
          modules
            .get(f)!
            .packages.filter((p) => !p.typeOnly && GRAPHQL.includes(p.name))
            .map((p) => `${rel(m.file)} loads ${p.name}${f === m.file ? '' : ` through ${rel(f)}`}`),
        ),
      );
    expect(offending).toEqual([]);
  });

  it('lets nothing but the composition root and the process entry build services', () => {
    const builders = [...modules.values()]
      .filter((m) => m.runtime.some((f) => rel(f) === path.join('services', 'index.ts')))
      .map((m) => rel(m.file))
      .sort();
    expect(builders).toEqual(['app.ts']);
  });
});
