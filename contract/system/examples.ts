// Examples of the system routes for the API documents (contract/examples.ts says why they live apart).
import { at, errorExample, httpExamples } from '../examples.ts';
import { getHealth } from './get-health.ts';

export const systemExamples = [
  httpExamples(getHealth, {
    query: {},
    responses: {
      200: { status: 'ok', stage: 'prod', time: at(30), dynamodb: { reachable: true, latencyMs: 4.2 } },
      503: { status: 'degraded', stage: 'prod', time: at(30), dynamodb: { reachable: false, latencyMs: 1000 } },
    },
    errors: {
      unknownParameter: errorExample(400, 'The route takes no query parameters', 'validation_failed', 'Invalid query', [
        { path: 'query.verbose', message: 'Unrecognized key: "verbose"', code: 'unrecognized_keys' },
      ]),
    },
  }),
];
