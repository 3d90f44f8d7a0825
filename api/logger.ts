/**
 * The only place that writes to the console.
 *
 * Log lines are JSON with no timestamp (a precise time next to a route is exactly what a
 * seizure would use to line requests up with network logs) and carry only the fields the
 * caller names. Callers must never pass user text, keys, tokens, IPs or user agents; the
 * request log below shows what is allowed for a request.
 */
import type { LogLevel } from './config.ts';

type Fields = Record<string, string | number | boolean | null>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(event: string, fields?: Fields): void;
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
}

export type LogSink = (line: string) => void;

let pendingLines: string[] = [];
let flushScheduled = false;

function flushPendingLines(): void {
  flushScheduled = false;
  if (pendingLines.length === 0) return;
  const text = `${pendingLines.join('\n')}\n`;
  pendingLines = [];
  process.stdout.write(text);
}

/**
 * The default sink: lines are written together once per turn of the event loop. Writing to a
 * pipe or file is a synchronous system call per write on Linux, and the request log writes a
 * line per request, so under load one write per batch costs a fraction of one per line. At
 * exit (normal, `process.exit`, or a fatal error) what is pending is written synchronously,
 * so nothing is lost; order is kept.
 */
export function stdoutSink(line: string): void {
  pendingLines.push(line);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushPendingLines);
}
process.on('exit', flushPendingLines);

export function createLogger(level: LogLevel, sink: LogSink = stdoutSink): Logger {
  const write = (at: LogLevel, event: string, fields?: Fields) => {
    if (ORDER[at] < ORDER[level]) return;
    sink(JSON.stringify({ level: at, event, ...fields }));
  };
  return {
    debug: (event, fields) => write('debug', event, fields),
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}

/** For command-line tools: a plain line for the person at the terminal. */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function printError(line: string): void {
  process.stderr.write(`${line}\n`);
}
