import { type Endpoint, pageEndpoint } from '../http/handler.ts';
import { hostedPage } from '../http/hosted-page.ts';
import { verifyEmailTicket } from '../oauth/accounts/email-verification.ts';
import { serviceNameOf } from '../oauth/accounts/mail-templates.ts';

/**
 * `GET /verify-email?ticket=…`: the link of the verification mail, answered by a small hosted page
 * (http/hosted-page.ts). An unknown, expired or used ticket gets one page for all three, so the
 * page tells nothing about tickets it did not issue.
 */
export const verifyEmailEndpoint: Endpoint = pageEndpoint(async (event, services) => {
  const outcome = await verifyEmailTicket(services, event.queryStringParameters?.ticket ?? undefined);
  const serviceName = serviceNameOf(services.config);
  return outcome === 'verified'
    ? hostedPage({
        status: 200,
        serviceName,
        title: 'Email verified',
        heading: 'Email verified',
        paragraphs: ['Your email address is verified. You can close this page and sign in.'],
      })
    : hostedPage({
        status: 400,
        serviceName,
        title: 'Link expired',
        heading: 'This link has expired',
        paragraphs: [
          'This verification link has expired or has been used already.',
          'Signing up again with the same address sends a new link.',
        ],
      });
});
