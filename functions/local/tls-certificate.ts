import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalCertificate {
  readonly key: string;
  readonly cert: string;
  readonly certPath: string;
  /** SHA-256 of the DER certificate, `AB:CD:…`, as browsers and `openssl x509 -fingerprint` show it. */
  readonly fingerprint256: string;
}

/** 825 days: the longest validity Apple platforms accept for a TLS server certificate. */
const VALIDITY_DAYS = 825;

/**
 * The local server's TLS certificate for `localhost`, made once into the data dir and kept, so a
 * phone simulator or emulator told to trust it goes on trusting it across restarts. Native SDKs
 * refuse plain http (Android outright, iOS through App Transport Security).
 *
 * node:crypto makes keys but not X.509 certificates; the `openssl` command (present wherever
 * OpenSSL is installed: Linux, macOS, Git for Windows) makes it, rather than a dependency that every
 * install would carry for a development convenience.
 */
export function localCertificate(dataDir: string): LocalCertificate {
  const keyPath = join(dataDir, 'tls-key.pem');
  const certPath = join(dataDir, 'tls-cert.pem');
  if (!existsSync(keyPath) || !existsSync(certPath)) makeCertificate(keyPath, certPath);
  const cert = readFileSync(certPath, 'utf8');
  return {
    key: readFileSync(keyPath, 'utf8'),
    cert,
    certPath,
    fingerprint256: new X509Certificate(cert).fingerprint256,
  };
}

function makeCertificate(keyPath: string, certPath: string) {
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        String(VALIDITY_DAYS),
        '-subj',
        '/CN=localhost/O=passgate local development',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-addext',
        'extendedKeyUsage=serverAuth',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    rmSync(keyPath, { force: true });
    rmSync(certPath, { force: true });
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? '--https makes its certificate with the openssl command, which is not installed; install OpenSSL'
        : `openssl could not make the certificate: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`,
    );
  }
  chmodSync(keyPath, 0o600); // the private key, like the signing key, is its owner's alone
}
