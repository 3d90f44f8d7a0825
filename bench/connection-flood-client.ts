/**
 * The flood side of bench/connection-flood.bench.ts, in a process of its own so its tens of
 * thousands of socket events never delay the probes being timed.
 *
 * `node --import tsx bench/connection-flood-client.ts <port> <idle> <slow> <deadlineSeconds>`
 * keeps `idle` sockets that send nothing and `slow` sockets that send a request's headers
 * and then trickle its body a byte at a time against 127.0.0.1:<port>. A socket the server
 * closes (its timeouts) is opened again a second later, as a flooder would. Every 500 ms it
 * prints one JSON line of counts; on "stop" (stdin), SIGTERM or the deadline it closes
 * everything, prints `{"stopped":true}` and exits.
 */
import net from 'node:net';

const [portArg, idleArg, slowArg, deadlineArg] = process.argv.slice(2);
const port = Number(portArg);
const idle = Number(idleArg);
const slow = Number(slowArg);
const deadlineMs = Number(deadlineArg) * 1000;
if (!(port > 0) || !(idle >= 0) || !(slow >= 0) || !(deadlineMs > 0)) {
  process.stderr.write('usage: connection-flood-client.ts <port> <idle> <slow> <deadlineSeconds>\n');
  process.exit(2);
}

/** Errors that mean this client ran out of something, not that the server refused: the run is invalid. */
const CLIENT_LIMITS = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM']);

const state = { connected: 0, peak: 0, opened: 0, closedByServer: 0, clientLimitErrors: 0, errors: {} as Record<string, number> };
const open = new Set<net.Socket>();
const slowSockets = new Set<net.Socket>();
let stopping = false;

function openSlot(kind: 'idle' | 'slow'): void {
  if (stopping) return;
  const socket = net.connect({ host: '127.0.0.1', port });
  let connected = false;
  open.add(socket);
  socket.setNoDelay(true);
  socket.on('connect', () => {
    connected = true;
    state.opened++;
    state.connected++;
    state.peak = Math.max(state.peak, state.connected);
    if (kind === 'slow') {
      // A body the server will wait for: 64 KiB announced, sent one byte every two seconds.
      socket.write('POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n{');
      slowSockets.add(socket);
    }
  });
  socket.on('data', () => {});
  socket.on('error', (err: NodeJS.ErrnoException) => {
    const code = err.code ?? 'unknown';
    state.errors[code] = (state.errors[code] ?? 0) + 1;
    if (CLIENT_LIMITS.has(code)) state.clientLimitErrors++;
  });
  socket.on('close', () => {
    open.delete(socket);
    slowSockets.delete(socket);
    if (connected) {
      state.connected--;
      if (!stopping) state.closedByServer++;
    }
    if (!stopping) setTimeout(() => openSlot(kind), 1000).unref();
  });
}

const trickle = setInterval(() => {
  for (const s of slowSockets) if (s.writable) s.write(' ');
}, 2000);

const report = setInterval(() => process.stdout.write(`${JSON.stringify({ ...state, slots: idle + slow })}\n`), 500);

function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(trickle);
  clearInterval(report);
  for (const s of open) s.destroy();
  process.stdout.write(`${JSON.stringify({ ...state, stopped: true })}\n`, () => process.exit(0));
}

process.on('SIGTERM', stop);
process.stdin.on('data', (d: Buffer) => {
  if (d.toString().includes('stop')) stop();
});
setTimeout(stop, deadlineMs).unref();

// Ramp up in batches: ten thousand SYNs at once would overflow the listen backlog and turn
// the ramp into a measure of SYN retries rather than of the server.
const plan: ('idle' | 'slow')[] = [];
for (let i = 0; i < Math.max(idle, slow); i++) {
  if (i < idle) plan.push('idle');
  if (i < slow) plan.push('slow');
}
let next = 0;
const ramp = setInterval(() => {
  for (let i = 0; i < 250 && next < plan.length; i++) openSlot(plan[next++]!);
  if (next >= plan.length) clearInterval(ramp);
}, 25);
