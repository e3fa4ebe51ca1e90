import { BlockList, isIPv6 } from 'node:net';
import type { TenantConfig } from '../functions/config/schema.ts';
import type { ResolvedSettings } from './settings.ts';

/** The CDK context key that lets a config with example values synthesize: `cdk deploy -c demo=true`. */
export const DEMO_CONTEXT_KEY = 'demo';

/**
 * The client secret hash of the repository's example config: everyone with a copy of the
 * repository has it, and the secret behind it was never meant to guard a real client.
 */
const EXAMPLE_SECRET_HASH = 'sha256:9RqxgmnPh4r2UhTvvqo-ZQ3E41wFrI_va79dUsTsk3E';

/** RFC 2606 §3: the domains reserved for documentation. */
const exampleDomain = (host: string) =>
  /(^|\.)example\.(com|net|org)$/i.test(host) || /\.example$/i.test(host);

/** RFC 5737 (IPv4) and RFC 3849 (IPv6): the address ranges reserved for documentation. */
const documentationRanges = new BlockList();
documentationRanges.addSubnet('192.0.2.0', 24, 'ipv4');
documentationRanges.addSubnet('198.51.100.0', 24, 'ipv4');
documentationRanges.addSubnet('203.0.113.0', 24, 'ipv4');
documentationRanges.addSubnet('2001:db8::', 32, 'ipv6');

const hostOf = (url: string) => (URL.canParse(url) ? new URL(url).hostname : url);

/**
 * Values of the example config that a real deployment must replace, one line each naming its
 * field: an audience on a documentation domain, the example's client secret hash, an IP allowlist
 * of documentation addresses, a custom domain under example.com.
 */
export function exampleValues(config: TenantConfig, settings: ResolvedSettings): string[] {
  const problems: string[] = [];
  const domainProblem = (field: string, value: string) => {
    if (exampleDomain(hostOf(value)))
      problems.push(`${field}: "${value}" is a documentation domain (RFC 2606)`);
  };
  domainProblem('defaultAudience', config.defaultAudience);
  config.apis.forEach((api, i) => {
    domainProblem(`apis[${i}].identifier`, api.identifier);
  });
  config.clients.forEach((client, i) => {
    if (client.clientSecretHash === EXAMPLE_SECRET_HASH) {
      problems.push(
        `clients[${i}].clientSecretHash: the example's, which every copy of passgate has; make one with \`npx passgate clients secret\``,
      );
    }
  });
  (config.ipThrottling?.allowlist ?? []).forEach((entry, i) => {
    const address = entry.split('/')[0] as string;
    if (documentationRanges.check(address, isIPv6(address) ? 'ipv6' : 'ipv4')) {
      problems.push(
        `ipThrottling.allowlist[${i}]: ${entry} is a documentation address range (RFC 5737, RFC 3849)`,
      );
    }
  });
  const domainName = settings.props.customDomain?.domainName;
  if (domainName !== undefined) domainProblem('customDomain.domainName (cdk.json)', domainName);
  return problems;
}

/** Refusal to synthesize a deployment that still holds example values, unless told it is a demo. */
export class ExampleValuesError extends Error {
  constructor(source: string, problems: string[]) {
    super(
      `${source} still holds ${problems.length} example value(s); replace them before a real deployment ` +
        `(see docs/deploying.md), or synthesize a demo with -c ${DEMO_CONTEXT_KEY}=true:\n  ${problems.join('\n  ')}`,
    );
    this.name = 'ExampleValuesError';
  }
}
