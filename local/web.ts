// The sample web app (web/) as `npm start` serves it: web/src/main.ts bundled for the browser by the
// project's esbuild into memory (once, at the first request), web/index.html and web/app.css, each
// with a strict Content-Security-Policy. Only GET/HEAD of a few exact paths; everything else goes on
// to the API gateway untouched.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { projectRoot } from './lambda.ts';

export interface WebAppOptions {
  /** Where the app's socket goes (`ws://host:port`), and other origins it may reach (the local S3). */
  wsUrl: string;
  s3Endpoint: string;
}

export interface WebApp {
  /** Answers a request for the app and returns true, or returns false for everything else. */
  serve(req: IncomingMessage, res: ServerResponse, security: Record<string, string>): boolean;
  /** Builds the bundle now (npm start calls it to report a broken build at once). */
  build(): Promise<void>;
}

const webDir = join(projectRoot, 'web');

const loopback = new Set(['localhost', '127.0.0.1', '0.0.0.0']);

/** An origin, and both spellings of it when it is the loopback: the page may be opened as localhost or 127.0.0.1. */
function originsOf(address: string): string[] {
  const { protocol, hostname, port } = new URL(address);
  const hosts = loopback.has(hostname) ? ['localhost', '127.0.0.1'] : [hostname];
  return hosts.map((host) => `${protocol}//${host}${port ? `:${port}` : ''}`);
}

/**
 * The page's policy: scripts and styles from this origin only (no inline code anywhere), the API on
 * 'self', the socket and the attachment storage by exact origin, images also as data: (the QR code)
 * and blob: (decrypted attachments), nothing framed, no plugins, no <base>, no form posts.
 */
export function webCsp(options: WebAppOptions): string {
  const connect = ["'self'", ...originsOf(options.wsUrl), ...originsOf(options.s3Endpoint)];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function webApp(options: WebAppOptions): WebApp {
  const csp = webCsp(options);
  let bundle: Promise<string> | undefined;
  const build = () =>
    (bundle ??= (async () => {
      const esbuild = await import('esbuild');
      const result = await esbuild.build({
        entryPoints: [join(webDir, 'src', 'main.ts')],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        target: 'es2022',
        write: false,
        minify: true,
        sourcemap: 'inline',
        sourcesContent: true,
        logLevel: 'silent',
        // The SDK's Node-only fallbacks never run in a browser; say so rather than pull in polyfills.
        define: { 'process.env.NODE_ENV': '"production"' },
      });
      return result.outputFiles[0]!.text;
    })());
  const page = () => readFileSync(join(webDir, 'index.html'), 'utf8').replace('%WS_URL%', escapeAttribute(options.wsUrl.replace('0.0.0.0', 'localhost')));
  const files: Record<string, { type: string; body: () => Promise<string> | string }> = {
    '/': { type: 'text/html; charset=utf-8', body: page },
    '/index.html': { type: 'text/html; charset=utf-8', body: page },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: build },
    '/app.css': { type: 'text/css; charset=utf-8', body: () => readFileSync(join(webDir, 'app.css'), 'utf8') },
    '/favicon.svg': { type: 'image/svg+xml', body: () => readFileSync(join(webDir, 'favicon.svg'), 'utf8') },
  };
  return {
    build: async () => void (await build()),
    serve(req, res, security) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const file = files[path];
      if (!file) return false;
      // the API's own policy (default-src 'none') gives way to the page's, whatever its header's spelling
      const kept = Object.entries(security).filter(([name]) => !/^(content-security-policy|content-type|referrer-policy)$/i.test(name));
      const headers = { ...Object.fromEntries(kept), 'content-security-policy': csp, 'content-type': file.type, 'referrer-policy': 'no-referrer' };
      Promise.resolve()
        .then(file.body)
        .then(
          (body) => {
            res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
            res.end(req.method === 'HEAD' ? undefined : body);
          },
          (error: unknown) => {
            bundle = undefined; // a fixed file builds on the next request
            console.error('web app build failed:', error instanceof Error ? error.message : error);
            res.writeHead(500, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
            res.end('The web app failed to build; see the console running npm start.');
          },
        );
      return true;
    },
  };
}
