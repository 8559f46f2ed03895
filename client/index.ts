// The SDK's entry for the repository (tests, the web app): everything client/src/index.ts exports.
export * from './src/index.ts';
