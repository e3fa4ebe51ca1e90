import type { APIGatewayProxyResult } from 'aws-lambda';
import { parseBody } from '../http/body.ts';
import { type Endpoint, pageEndpoint } from '../http/handler.ts';
import { hostedPage } from '../http/hosted-page.ts';
import { requestInfo } from '../http/request-info.ts';
import { serviceNameOf } from '../oauth/accounts/mail-templates.ts';
import { openResetLink, type ResetPageView, submitNewPassword } from '../oauth/accounts/reset-page.ts';
import type { Services } from '../oauth/services.ts';

/** The realm's policy (passwords/policy.ts) as the user needs it to pick a password that passes. */
function policyText(view: Extract<ResetPageView, { kind: 'form' }>): string {
  const { minLength, blocklist } = view.realm.passwordPolicy;
  const lists = blocklist ? 'a common password or one known from data breaches' : 'a common password';
  return `Use at least ${minLength} characters. It must not be ${lists}, nor contain your email address or the service's name.`;
}

function render(view: ResetPageView, services: Services): APIGatewayProxyResult {
  const serviceName = serviceNameOf(services.config);
  switch (view.kind) {
    case 'form':
      return hostedPage({
        status: view.problem === undefined ? 200 : 400,
        serviceName,
        title: 'Choose a new password',
        heading: 'Choose a new password',
        paragraphs: [...(view.problem === undefined ? [] : [view.problem]), policyText(view)],
        form: {
          action: 'reset-password',
          hidden: view.hidden,
          fields: [
            { name: 'new_password', label: 'New password', autocomplete: 'new-password' },
            { name: 'confirm_new_password', label: 'New password, again', autocomplete: 'new-password' },
          ],
          submit: 'Set the new password',
        },
      });
    case 'dead':
      // RFC 9110 §15.5.11: gone for good; a new link must be asked for.
      return hostedPage({
        status: 410,
        serviceName,
        title: 'Link expired',
        heading: 'This link no longer works',
        paragraphs: [
          'A reset link works once, for 30 minutes, and only until the password changes. Ask for a new one where you sign in.',
        ],
      });
    case 'forged':
      return hostedPage({
        status: 403,
        serviceName,
        title: 'Form refused',
        heading: 'This form cannot be used',
        paragraphs: ['Open the link from the mail again and set the password there.'],
      });
    case 'done':
      return hostedPage({
        status: 200,
        serviceName,
        title: 'Password changed',
        heading: 'Your password was changed',
        paragraphs: [
          'Sign in with your new password. Every device signed in with the old one was signed out.',
        ],
      });
  }
}

/**
 * `GET reset-password?ticket=…` shows the form; `POST reset-password` (the form, with the ticket
 * and its token in hidden fields, so the ticket leaves the URL) sets the password. A page for
 * people, opened from a mail: no CORS. The ticket is never logged.
 */
export const resetPasswordEndpoint: Endpoint = pageEndpoint(async (event, services) => {
  if (event.httpMethod === 'GET') {
    return render(await openResetLink(event.queryStringParameters?.ticket ?? undefined, services), services);
  }
  const params = parseBody(event);
  const view = await submitNewPassword(
    {
      ticket: params.ticket,
      formToken: params.form_token,
      password: params.new_password,
      confirmation: params.confirm_new_password,
    },
    requestInfo(event, services),
    services,
  );
  return render(view, services);
});
