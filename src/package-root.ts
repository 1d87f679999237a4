import fs from 'node:fs';
import path from 'node:path';

let root: string | undefined;

/**
 * The Allied package's folder: the nearest one above this file with a
 * package.json (src/ under ts-jest, dist/src/ once compiled). Files the
 * package ships (sql/functions, public/, models/) are found from it.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  root = dir;
  return dir;
}
