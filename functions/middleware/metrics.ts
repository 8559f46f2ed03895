// The invocation's business metrics leave once, at its end, whether it answered or failed. Routes
// that count add it to their stack (`.use(publishMetrics())`); the others never bundle the emitter.
import type middy from '@middy/core';
import { metrics } from '#wiring/metrics.ts';

export function publishMetrics<Event, Result>(): middy.MiddlewareObj<Event, Result> {
  const flush = async () => metrics().flush();
  return { after: flush, onError: flush };
}
