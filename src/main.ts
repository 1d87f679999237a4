/** Process entry: `allied <command>` (see cli.ts); serve is config → database → server → listen. */
import 'reflect-metadata';
import { main } from './cli';
import { exitAfterLogs } from './logger';

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  void exitAfterLogs(1);
});
