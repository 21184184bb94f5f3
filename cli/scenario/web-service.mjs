// cli/scenario/web-service.mjs — the walkthrough's web3.go as a real process, for `--real`.
//
// Owns: listening on IP:PORT, answering "/health" (printing "health check!") and every
// other path with the greeting (printing it), one stdout line per request, like web3.go.
// Must never: outlive its parent: it exits when stdin closes (the runner holds the pipe).
// usage: node web-service.mjs IP PORT GREETING
import http from 'node:http';

const [ip, portText, ...words] = process.argv.slice(2);
const greeting = words.join(' ');
const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') {
    process.stdout.write('health check!\n');
    res.end();
    return;
  }
  process.stdout.write(`${greeting}\n`);
  res.end(greeting);
});
server.on('error', (err) => {
  process.stderr.write(`web service: ${err.message}\n`);
  process.exit(1);
});
server.listen(Number(portText), ip, () => process.stderr.write('ready\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
