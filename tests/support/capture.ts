// Captures the structured log lines written to stdout and stderr while `fn` runs, optionally at a
// more verbose log level, so tests can assert what logs never contain. Everything else passes
// through untouched: the test runner reports results over the same stdout.
export async function captureOutput(fn: () => Promise<void>, level?: 'DEBUG' | 'INFO'): Promise<string> {
  const { logger } = await import('../../functions/middleware/logger.ts');
  const previous = logger.getLevelName();
  if (level) logger.setLogLevel(level);
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((s) => s.write);
  streams.forEach((s, i) => {
    s.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (text.startsWith('{"level":')) {
        lines.push(text);
        return true;
      }
      return (writes[i] as (...args: unknown[]) => boolean).call(s, chunk, ...rest);
    }) as typeof s.write;
  });
  try {
    await fn();
  } finally {
    streams.forEach((s, i) => (s.write = writes[i]!));
    logger.setLogLevel(previous);
  }
  return lines.join('');
}
