// Bench variant of the @aws-lambda-powertools/commons root, as bench/observability.ts aliases it for
// the leanest Powertools Metrics bundle: only what Metrics takes from the root, file by file, without
// the root's other exports and its user-agent side effect. It never ships.
export { Utility } from '../../node_modules/@aws-lambda-powertools/commons/lib/esm/Utility.js';
export { isIntegerNumber, isNumber, isString, isStringUndefinedNullEmpty } from '../../node_modules/@aws-lambda-powertools/commons/lib/esm/typeUtils.js';
export { METRICS_KEY } from '../../node_modules/@aws-lambda-powertools/commons/lib/esm/middleware/constants.js';
