// POST /api/auth/login: 200 with tokens, or 202 when OTP is mandatory at login and no code was sent.
import { identifierOf, login } from '#core/identity.ts';
import { tokenResult } from '#core/session-response.ts';
import { identityForLogin } from '#wiring/identity.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { publishMetrics } from '#middleware/metrics.ts';
import { login as contract } from '#contract/auth/login.ts';

export const handler = httpHandler(contract)
  .handle(async ({ body, sourceIp }) => {
    const result = await login(
      identityForLogin(),
      { identifier: identifierOf(body), password: body.password, code: body.code, deviceName: body.deviceName },
      sourceIp,
    );
    if (result.kind === 'otp_required') return { statusCode: 202, body: { otpRequired: true, ...result.otp } };
    return tokenResult(result.tokens, 200);
  })
  .use(publishMetrics());
