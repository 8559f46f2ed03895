// AWS list prices the cost model uses: one file, with the date they were read and where from.
// US East (N. Virginia), on-demand, no free tier, the first pricing tier of each service. Check them
// before budgeting: prices change and differ by region.
export const PRICES = {
  date: '2026-11-30',
  region: 'us-east-1',
  sources: {
    lambda: 'https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5B GB-s/month)',
    apiGateway: 'https://aws.amazon.com/api-gateway/pricing/ (WebSocket: first 1B messages; HTTP API: first 300M requests)',
    dynamodb: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (Standard table class)',
    cloudwatch: 'https://aws.amazon.com/cloudwatch/pricing/ (Logs ingestion, standard)',
    xray: 'https://aws.amazon.com/xray/pricing/ (traces recorded)',
  },
  /** USD per GB-second of Lambda on Arm (Graviton). */
  lambdaArmGbSecond: 0.0000133334,
  /** USD per Lambda request. */
  lambdaRequest: 0.2 / 1e6,
  /** USD per WebSocket message (billed per 32 KB, inbound and outbound alike). */
  wsMessage: 1.0 / 1e6,
  /** USD per WebSocket connection-minute. */
  wsConnectionMinute: 0.25 / 1e6,
  /** USD per HTTP API request (per 512 KB). */
  httpRequest: 1.0 / 1e6,
  /** USD per on-demand write request unit. */
  dynamoWriteUnit: 0.625 / 1e6,
  /** USD per on-demand read request unit. */
  dynamoReadUnit: 0.125 / 1e6,
  /** USD per GB-month of table storage. */
  dynamoStorageGbMonth: 0.25,
  /** USD per GB of CloudWatch Logs ingested. */
  logsIngestGb: 0.5,
  /** USD per X-Ray trace recorded. */
  xrayTrace: 5.0 / 1e6,
} as const;

export type Prices = typeof PRICES;
