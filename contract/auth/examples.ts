// Examples of the auth routes for the API documents (contract/examples.ts says why they live apart).
import { at, errorExample, httpExamples, ids, jwt, validationFailed } from '../examples.ts';
import { changePassword } from './change-password.ts';
import { login } from './login.ts';
import { logoutAll } from './logout-all.ts';
import { logout } from './logout.ts';
import { refresh } from './refresh.ts';
import { register } from './register.ts';
import { requestOtp } from './request-otp.ts';
import { resetPassword } from './reset-password.ts';

export const ada = {
  userId: ids.ada,
  displayName: 'Ada Lovelace',
  email: 'ada@example.com',
  role: 'user',
  hasPassword: true,
  discoverable: false,
  createdAt: at(0),
} as const;

export const adaTokens = { user: ada, accessToken: jwt('at+jwt', ids.ada), refreshToken: jwt('rt+jwt', ids.ada), expiresIn: 900 };

const otpSent = { expiresAt: at(10), expiresIn: 600, resendAfter: at(1), resendIn: 60 };
const wrongCode = errorExample(401, 'Wrong, expired or used code', 'invalid_code', 'The code is wrong, expired or already used; request a new one');

export const authExamples = [
  httpExamples(requestOtp, {
    bodies: {
      email: { channel: 'email', destination: 'ada@example.com', purpose: 'register' },
      sms: { channel: 'sms', destination: '+14155550123', purpose: 'login' },
    },
    responses: { 202: otpSent },
    errors: { invalidPhone: validationFailed('body', 'body.destination', 'Phone numbers are E.164, e.g. +14155550123') },
  }),
  httpExamples(register, {
    bodies: {
      withPassword: {
        email: 'ada@example.com',
        displayName: 'Ada Lovelace',
        password: 'correct horse battery staple',
        code: '493027',
        deviceName: "Ada's laptop",
      },
      passwordless: { phone: '+14155550123', displayName: 'Ada Lovelace', code: '493027' },
    },
    responses: { 201: adaTokens },
    errors: {
      taken: errorExample(409, 'Email or phone already registered', 'identifier_taken', 'An account with this email or phone already exists'),
      bothIdentifiers: validationFailed('body', 'body.email', 'Give exactly one of email or phone', 'custom'),
    },
  }),
  httpExamples(login, {
    bodies: {
      password: { email: 'ada@example.com', password: 'correct horse battery staple', deviceName: "Ada's laptop" },
      code: { phone: '+14155550123', code: '493027' },
    },
    responses: { 200: adaTokens, 202: { ...otpSent, otpRequired: true, channel: 'email' } },
    errors: { wrongPassword: errorExample(401, 'Unknown account or wrong password (the same answer)', 'invalid_credentials', 'Wrong identifier or password') },
  }),
  httpExamples(refresh, {
    bodies: { nativeApp: { refreshToken: jwt('rt+jwt', ids.ada) }, browser: {} },
    responses: { 200: adaTokens },
    errors: {
      reused: errorExample(
        401,
        'Unknown, expired, revoked or reused refresh token',
        'invalid_refresh_token',
        'Refresh token is invalid, revoked or expired; sign in again',
      ),
    },
  }),
  httpExamples(logout, { responses: { 204: null } }),
  httpExamples(logoutAll, { responses: { 204: null } }),
  httpExamples(resetPassword, {
    bodies: { reset: { email: 'ada@example.com', code: '493027', newPassword: 'a new and longer passphrase' } },
    responses: { 204: null },
    errors: { wrongCode },
  }),
  httpExamples(changePassword, {
    bodies: {
      withPassword: { currentPassword: 'correct horse battery staple', newPassword: 'a new and longer passphrase' },
      firstPassword: { code: '493027', newPassword: 'a new and longer passphrase' },
    },
    responses: { 200: { user: ada } },
    errors: {
      tooShort: validationFailed('body', 'body.newPassword', 'At least 8 characters', 'too_small'),
      wrongPassword: errorExample(403, 'The current password is wrong', 'invalid_current_password', 'The current password is wrong'),
    },
  }),
];
