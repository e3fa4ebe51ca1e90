import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HOSTED_PAGE_CSP, hostedPage } from '../../functions/http/hosted-page.ts';

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
    expect(page.headers).toEqual({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': HOSTED_PAGE_CSP,
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
    });
    const style = /<style>(.*?)<\/style>/.exec(page.body)?.[1] as string;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(HOSTED_PAGE_CSP).toBe(
      `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(page.body).not.toMatch(/<script|<link|<img|src=|https?:\/\//);
  });
});
