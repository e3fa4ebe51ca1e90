import { createHash } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { defaults } from '../config/defaults.ts';
import type { TenantConfig } from '../config/schema.ts';
import { escapeHtml } from '../oauth/accounts/html-escape.ts';
import { serviceNameOf } from '../oauth/accounts/mail-templates.ts';

/**
 * The one template of passgate's hosted pages (email verification, password reset): server-rendered
 * HTML, every value escaped, no script, no third-party asset, and a Content-Security-Policy that
 * allows only the page's own style and forms posted back to the page itself.
 */

/** A password input with its label. */
export interface PageField {
  readonly name: string;
  readonly label: string;
  readonly autocomplete: 'new-password' | 'current-password';
}

export interface PageForm {
  /** Relative to the page, e.g. `reset-password`: the CSP allows posting to the page's own origin only. */
  readonly action: string;
  readonly fields: readonly PageField[];
  readonly hidden: Readonly<Record<string, string>>;
  readonly submit: string;
}

export interface HostedPage {
  readonly status: number;
  /** The service's name (the config's `name`), shown above the heading and in the title. */
  readonly serviceName: string;
  readonly title: string;
  readonly heading: string;
  readonly paragraphs: readonly string[];
  readonly form?: PageForm;
}

const STYLE = [
  'body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1c1e21}',
  'main{max-width:26rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 3px #0002}',
  '.service{margin:0;color:#5f6368;font-size:.9rem}',
  'h1{font-size:1.4rem;margin:.4rem 0 1rem}',
  'label{display:block;margin:1rem 0 .3rem}',
  'input{box-sizing:border-box;width:100%;padding:.5rem;font-size:1rem}',
  'button{margin-top:1.2rem;padding:.6rem 1rem;font-size:1rem}',
].join('');

/** CSP Level 2 §4.2.4: an inline style runs only if its hash is listed; no 'unsafe-inline'. */
const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

export const HOSTED_PAGE_CSP = [
  "default-src 'none'",
  `style-src '${STYLE_HASH}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function formHtml(form: PageForm): string {
  const fields = form.fields.map(
    (field, i) =>
      `<label for="f${i}">${escapeHtml(field.label)}</label>` +
      `<input id="f${i}" type="password" name="${escapeHtml(field.name)}" autocomplete="${field.autocomplete}" required>`,
  );
  const hidden = Object.entries(form.hidden).map(
    ([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
  );
  return `<form method="post" action="${escapeHtml(form.action)}">${[...hidden, ...fields].join('')}<button type="submit">${escapeHtml(form.submit)}</button></form>`;
}

/** A hosted page as an API Gateway result: never cached, never framed, no referrer leaves it. */
export function hostedPage(page: HostedPage): APIGatewayProxyResult {
  const body = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(`${page.title} · ${page.serviceName}`)}</title>`,
    `<style>${STYLE}</style></head>`,
    `<body><main><p class="service">${escapeHtml(page.serviceName)}</p>`,
    `<h1>${escapeHtml(page.heading)}</h1>`,
    ...page.paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`),
    page.form ? formHtml(page.form) : '',
    '</main></body></html>',
  ].join('');
  return {
    statusCode: page.status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': HOSTED_PAGE_CSP,
      // The ticket is in the page's URL: no link or form may carry it elsewhere in a Referer.
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
    },
    body,
  };
}

/**
 * A page's error (errorResponse, JSON for apps) as a page for the person who opened the link: the
 * same status and headers (`Retry-After` on a 503), the description in words, nothing of the
 * request echoed. `config` is absent when the services could not be built (a cold start's outage).
 */
export function errorPage(
  refused: APIGatewayProxyResult,
  config?: Pick<TenantConfig, 'name'>,
): APIGatewayProxyResult {
  const { 'Content-Type': _json, ...headers } = (refused.headers ?? {}) as Record<string, string>;
  const description = (JSON.parse(refused.body) as { error_description?: string }).error_description;
  const unavailable = refused.statusCode === 503;
  const page = hostedPage({
    status: refused.statusCode,
    serviceName: config ? serviceNameOf(config) : defaults.serviceName,
    title: unavailable ? 'Temporarily unavailable' : 'Something went wrong',
    heading: unavailable ? 'This page is temporarily unavailable' : 'This request could not be completed',
    paragraphs: unavailable
      ? ['Nothing was changed. Please try again in a minute: the link still works.']
      : [description ?? 'Please open the link from your mail again.'],
  });
  return { ...page, headers: { ...headers, ...page.headers } };
}
