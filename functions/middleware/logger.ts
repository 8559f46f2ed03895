// Structured JSON logs through Powertools Logger, created once. Only whitelisted request facts are
// logged (never headers, bodies, query strings or tokens), so secrets cannot leak by accident.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({
  serviceName: 'nexchat',
  logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO',
});
