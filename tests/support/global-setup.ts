// One DynamoDB Local for a whole `node --test` run (--test-global-setup): started before the first test
// file, handed to every test file process through the environment they inherit, stopped after the last.
import { startDynamoLocal, type DynamoLocal } from '../../local/dynamodb.ts';

/** Set for the test file processes; startTestRuntime() gives each file its own tables in this DynamoDB. */
export const SHARED_DYNAMODB_ENV = 'NEXCHAT_TEST_DYNAMODB_ENDPOINT';

let dynamo: DynamoLocal | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env[SHARED_DYNAMODB_ENV]) return; // a DynamoDB the caller runs (and stops) itself
  try {
    dynamo = await startDynamoLocal();
    process.env[SHARED_DYNAMODB_ENV] = dynamo.endpoint;
  } catch (error) {
    // Throwing here would end the run before any test, without a summary: instead each file that
    // needs DynamoDB starts its own (and fails, in the summary, if it cannot); unit tests still run.
    console.error(`No shared DynamoDB Local for this run: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

export async function globalTeardown(): Promise<void> {
  await dynamo?.stop();
}
