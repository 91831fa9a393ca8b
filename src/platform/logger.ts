// One structured logger (pino); modules and tasks take children of it. JSON lines, except on
// a person's terminal, where pino-pretty writes them to be read (LOG_FORMAT overrides either).
import { pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

/** Pretty lines on a terminal outside production; JSON for files, pipes and log collectors. */
export function prettyLogs(where: {
  isTTY: boolean;
  nodeEnv: string | undefined;
  logFormat: string | undefined;
}): boolean {
  if (where.logFormat === 'json' || where.logFormat === 'pretty')
    return where.logFormat === 'pretty';
  return where.isTTY && where.nodeEnv !== 'production';
}

const pretty = prettyLogs({
  isTTY: Boolean(process.stdout.isTTY),
  nodeEnv: process.env.NODE_ENV,
  logFormat: process.env.LOG_FORMAT,
});

const options = {
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'agent-growth-api', pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
};

export const logger = pretty
  ? // In this thread and synchronous: a `failed to start` line is out before process.exit().
    pino(options, PinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' }))
  : pino(options);

export type Logger = typeof logger;
