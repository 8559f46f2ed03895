// A secret's string through the AWS Parameters and Secrets Lambda Extension (the layer RouteFunction
// adds to every function granted a secret): no Secrets Manager client in the bundle, and the
// extension caches the value. The read is still authorized by the function role's grant on the secret.
/** The extension's default port (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT), as in signing-secret.ts. */
const EXTENSION_PORT = 2773;

export interface ExtensionOptions {
  /** The execution environment's AWS_SESSION_TOKEN: the extension answers only callers that hold it. */
  readonly sessionToken: string;
  readonly fetch?: typeof fetch;
  readonly port?: number;
}

export async function extensionSecretString(arn: string, options: ExtensionOptions): Promise<string> {
  const get = options.fetch ?? fetch;
  const res = await get(`http://localhost:${options.port ?? EXTENSION_PORT}/secretsmanager/get?secretId=${encodeURIComponent(arn)}`, {
    headers: { 'X-Aws-Parameters-Secrets-Token': options.sessionToken },
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`the secrets extension answered ${res.status}`);
  const body = (await res.json()) as { SecretString?: unknown };
  if (typeof body.SecretString !== 'string' || body.SecretString === '') throw new Error('the secret has no string value');
  return body.SecretString;
}
