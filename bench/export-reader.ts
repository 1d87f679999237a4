import http from 'node:http';

/**
 * The impact benchmark's reader of an export, in a process of its own so
 * that the server's memory is measured without the reader's: reads
 * GET <url> to its end without keeping it, tells its parent at each
 * quarter of `rows` rows, and ends with the rows, bytes, the impressions
 * column's sum and the seconds it took. Run by bench/impact.ts (fork).
 */
const [url, token, expected] = process.argv.slice(2);
const quarter = Math.ceil(Number(expected) / 4);
const started = performance.now();
let rows = -1; // the header
let bytes = 0;
let impressions = 0;
let rest = '';

http
  .get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
    if (res.statusCode !== 200) {
      process.send!({ error: `export answered ${res.statusCode}` });
      process.exit(1);
    }
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      bytes += Buffer.byteLength(chunk);
      const lines = (rest + chunk).split('\r\n');
      rest = lines.pop()!;
      for (const line of lines) {
        rows++;
        if (rows > 0 && rows % quarter === 0) process.send!({ quarter: rows / quarter });
        if (rows > 0) {
          const first = line.indexOf(',');
          impressions += Number(line.slice(first + 1, line.indexOf(',', first + 1)));
        }
      }
    });
    res.on('end', () => process.send!({ done: { rows, bytes, impressions, seconds: (performance.now() - started) / 1000 } }, () => process.exit(0)));
    res.on('error', (error) => {
      process.send!({ error: String(error) });
      process.exit(1);
    });
  })
  .on('error', (error) => {
    process.send!({ error: String(error) });
    process.exit(1);
  });
