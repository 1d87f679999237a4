// The SMTP sink of bench/email.ts, in a process of its own so that its work is not counted against the
// server's: accepts everything, keeps nothing, and prints "PORT <n>" once listening and then, every 100 ms,
// "ACCEPTED <t1> <t2> ..." with the time (epoch ms, a float) of each message accepted since the last line.
'use strict';
const { SMTPServer } = require('smtp-server');

let pending = [];
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      pending.push(performance.timeOrigin + performance.now());
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.server.address().port}\n`));
setInterval(() => {
  if (pending.length === 0) return;
  process.stdout.write(`ACCEPTED ${pending.join(' ')}\n`);
  pending = [];
}, 100);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
