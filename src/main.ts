/** Process entry: `allied <command>` (see cli.ts); serve is config → database → server → listen. */
import 'reflect-metadata';
import { main } from './cli';

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
