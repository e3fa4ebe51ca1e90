import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resetPasswordEndpoint } from '../../functions/endpoints/reset-password.ts';
import { verifyEmailEndpoint } from '../../functions/endpoints/verify-email.ts';
import { proxyHandler } from '../../functions/http/handler.ts';
import { HOSTED_PAGE_CSP, hostedPage } from '../../functions/http/hosted-page.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import type { TicketStore } from '../../functions/oauth/ports.ts';
import { proxyEvent } from '../helpers/events.ts';
import { memoryServices } from '../helpers/memory-ports.ts';

const page = hostedPage({
  status: 200,
  serviceName: 'Shop "<Co>"',
  title: 'Choose a password',
  heading: 'Choose a new password for <script>alert(1)</script>',
  paragraphs: ["It's <b>yours</b> & no one else's."],
  form: {
    action: 'reset-password',
    fields: [{ name: 'password', label: 'New password', autocomplete: 'new-password' }],
    hidden: { ticket: '"><script>alert(2)</script>' },
    submit: 'Save',
  },
});

const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': HOSTED_PAGE_CSP,
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
};

describe('hosted pages', () => {
  it('escape every value: nothing given becomes markup', () => {
    expect(page.body).not.toContain('<script');
    expect(page.body).toContain(
      '<h1>Choose a new password for &#60;script&#62;alert(1)&#60;/script&#62;</h1>',
    );
    expect(page.body).toContain('<p>It&#39;s &#60;b&#62;yours&#60;/b&#62; &#38; no one else&#39;s.</p>');
    expect(page.body).toContain('value="&#34;&#62;&#60;script&#62;alert(2)&#60;/script&#62;"');
    expect(page.body).toContain('<p class="service">Shop &#34;&#60;Co&#62;&#34;</p>');
    expect(page.body).toContain('<title>Choose a password · Shop &#34;&#60;Co&#62;&#34;</title>');
  });

  it('post their form back to the page, with labelled password inputs', () => {
    expect(page.body).toContain('<form method="post" action="reset-password">');
    expect(page.body).toContain(
      '<label for="f0">New password</label><input id="f0" type="password" name="password" autocomplete="new-password" required>',
    );
  });

  it('are never cached, framed or referred from, and allow only their own style and forms', () => {
    expect(page.statusCode).toBe(200);
    expect(page.headers).toEqual(PAGE_HEADERS);
    const style = /<style>(.*?)<\/style>/.exec(page.body)?.[1] as string;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(HOSTED_PAGE_CSP).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(page.body).not.toMatch(/<script|<link|<img|src=|https?:\/\//);
  });
});

describe('errors of the hosted pages', () => {
  const outage = () => new DependencyUnavailableError('dynamodb', 'GetItem', new Error('throttled'));
  const downTickets: TicketStore = {
    put: () => Promise.reject(outage()),
    find: () => Promise.reject(outage()),
    spend: () => Promise.reject(outage()),
  };
  const open = (query: Record<string, string>) => ({
    ...proxyEvent({ method: 'GET', path: '/reset-password' }),
    queryStringParameters: query,
  });

  it('are pages too: a store outage answers 503 with Retry-After, as HTML, and says the link still works', async () => {
    const { services } = await memoryServices({ tickets: downTickets });
    for (const endpoint of [resetPasswordEndpoint, verifyEmailEndpoint]) {
      const response = await proxyHandler(endpoint, async () => services)(open({ ticket: 'a'.repeat(43) }));
      expect(response.statusCode).toBe(503);
      expect(response.headers).toEqual({ ...PAGE_HEADERS, 'Retry-After': '1' });
      expect(response.body).toContain('<h1>This page is temporarily unavailable</h1>');
      expect(response.body).toContain('the link still works');
      expect(response.body).not.toContain('a'.repeat(43));
    }
  });

  it('are pages when the services cannot be built at all, under the default service name', async () => {
    const handler = proxyHandler(verifyEmailEndpoint, () => Promise.reject(outage()));
    const response = await handler(open({ ticket: 'x' }));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<p class="service">');
    expect(response.body).toContain('temporarily unavailable');
  });

  it('show a refused form in words: a body that is no form is a 400 page, not JSON', async () => {
    const { services } = await memoryServices();
    const response = await proxyHandler(
      resetPasswordEndpoint,
      async () => services,
    )(proxyEvent({ path: '/reset-password', headers: { 'Content-Type': 'text/plain' }, body: 'x' }));
    expect(response.statusCode).toBe(400);
    expect(response.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<h1>This request could not be completed</h1>');
    expect(response.body).toContain(
      'Content-Type must be application/x-www-form-urlencoded or application/json.',
    );
  });
});
