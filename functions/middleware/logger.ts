// Structured JSON logs, one line per entry, created once. Only whitelisted request facts are logged
// (never headers, bodies, query strings or tokens), so secrets cannot leak by accident. A few lines
// of our own instead of Powertools Logger: it cost ~23 KB in every bundle for what JSON.stringify does.
// The level comes from LOG_LEVEL, the service name from SERVICE_NAME.

const levels = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 } as const;
export type LogLevel = keyof typeof levels;
type Fields = Record<string, unknown>;

function parseLevel(value: string | undefined): LogLevel {
  const v = value?.toUpperCase();
  return v && v in levels ? (v as LogLevel) : 'INFO';
}

export class Logger {
  private level: LogLevel;
  private readonly service: string;

  constructor(service: string, level: LogLevel) {
    this.service = service;
    this.level = level;
  }

  getLevelName(): LogLevel {
    return this.level;
  }

  setLogLevel(level: LogLevel): void {
    this.level = level;
  }

  debug(message: string, fields?: Fields): void {
    this.write('DEBUG', message, fields);
  }

  info(message: string, fields?: Fields): void {
    this.write('INFO', message, fields);
  }

  warn(message: string, fields?: Fields): void {
    this.write('WARN', message, fields);
  }

  error(message: string, fields?: Fields): void {
    this.write('ERROR', message, fields);
  }

  private write(level: Exclude<LogLevel, 'SILENT'>, message: string, fields: Fields = {}): void {
    if (levels[level] < levels[this.level]) return;
    const line = JSON.stringify({ level, message, timestamp: new Date().toISOString(), service: this.service, ...fields });
    (level === 'ERROR' || level === 'WARN' ? process.stderr : process.stdout).write(`${line}\n`);
  }
}

// Read here, not through config: the logger must work before (and when) configuration fails.
export const logger = new Logger(process.env.SERVICE_NAME ?? 'nexchat', parseLevel(process.env.LOG_LEVEL));
