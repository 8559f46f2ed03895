// Captures everything written to stdout and stderr (where the structured logs go) while `fn` runs,
// optionally at a more verbose log level, so tests can assert what logs never contain.
export async function captureOutput(fn: () => Promise<void>, level?: 'DEBUG' | 'INFO'): Promise<string> {
  const { logger } = await import('../../functions/middleware/logger.ts');
  const previous = logger.getLevelName();
  if (level) logger.setLogLevel(level);
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((s) => s.write);
  for (const s of streams) {
    s.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof s.write;
  }
  try {
    await fn();
  } finally {
    streams.forEach((s, i) => (s.write = writes[i]!));
    logger.setLogLevel(previous);
  }
  return lines.join('');
}
