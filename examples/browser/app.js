// The page of a single-page app that signs its users in with passgate's password-realm grant.
// Tokens live in this module's memory only: not in localStorage, where any script injected into
// the page could read them at leisure, and gone when the tab closes (see docs/browser-apps.md).
// They are DPoP-bound (RFC 9449) to a key pair the page makes below and cannot export: a token
// copied out of the page is refused anywhere without a proof signed by that key.

const PASSWORD_REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const $ = (id) => document.getElementById(id);

const settings = await (await fetch('settings.json')).json();
const tokenEndpoint = new URL('oauth/token', settings.issuer);
let tokens;

// Non-extractable: no script, this page's own included, can read the private key, only ask the
// browser to sign with it. It lives as long as the page, like the tokens bound to it; a page that
// keeps its session across reloads would keep the CryptoKey in IndexedDB, which stores it as is.
const dpopKey = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
  'sign',
  'verify',
]);
// RFC 9449 §4.2: the proof's `jwk` is the public key only. WebCrypto always lets the public half be
// exported; only the members RFC 7638 hashes are kept.
const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', dpopKey.publicKey);
const publicJwk = { kty, crv, x, y };
/** The most recent `DPoP-Nonce` passgate sent (RFC 9449 §8), for the next proof to passgate. */
let dpopNonce;

const utf8 = (text) => new TextEncoder().encode(text);
const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const sha256 = async (text) => base64url(await crypto.subtle.digest('SHA-256', utf8(text)));

/**
 * A DPoP proof (RFC 9449 §4.2): a JWT signed by the page's key, for one request (`htm`, `htu`),
 * once (`jti`), now (`iat`); for a server that asked, with its `nonce`; at a resource, bound to the
 * access token it comes with (`ath`). WebCrypto's ECDSA signature is already r‖s, the form JWS
 * wants (RFC 7518 §3.4).
 */
async function dpopProof(htm, htu, { accessToken, nonce } = {}) {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk };
  const claims = {
    jti: crypto.randomUUID(),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ...(accessToken === undefined ? {} : { ath: await sha256(accessToken) }),
    ...(nonce === undefined ? {} : { nonce }),
  };
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    dpopKey.privateKey,
    utf8(input),
  );
  return `${input}.${base64url(signature)}`;
}

$('origin').textContent = location.origin;
$('issuer').textContent = settings.issuer;
$('client').textContent = settings.clientId;
// RFC 7638: the thumbprint hashes the required members in lexicographic order; it is what passgate
// puts in the access token's `cnf.jkt`.
$('key-thumbprint').textContent = await sha256(JSON.stringify({ crv, kty, x, y }));
$('key-extractable').textContent = String(dpopKey.privateKey.extractable);

function show(message, isError = false) {
  $('status').textContent = message;
  $('status').className = isError ? 'error' : '';
}

/** Form-encoded, as RFC 6749 §4.3.2 says. */
async function post(url, parameters, headers = {}) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ client_id: settings.clientId, ...parameters }),
    });
  } catch {
    // The browser hides why; a response without Access-Control-Allow-Origin is the usual cause.
    throw new Error(
      `The browser refused the answer from ${settings.issuer} (CORS): is ${location.origin} in the allowedOrigins of client "${settings.clientId}"?`,
    );
  }
  const text = await response.text();
  return { response, body: text === '' ? {} : JSON.parse(text) };
}

const failure = (body) => new Error(`${body.error}: ${body.error_description}`);

/**
 * A token request with a DPoP proof. A server that wants nonces answers `use_dpop_nonce` with one
 * in `DPoP-Nonce`, and hands out the next on every success: keep it, and retry once (RFC 9449 §8).
 */
async function tokenRequest(parameters) {
  const send = async () => {
    const proof = await dpopProof('POST', tokenEndpoint.href, { nonce: dpopNonce });
    const answer = await post(tokenEndpoint, parameters, { DPoP: proof });
    dpopNonce = answer.response.headers.get('DPoP-Nonce') ?? dpopNonce;
    return answer;
  };
  let { response, body } = await send();
  if (body.error === 'use_dpop_nonce') ({ response, body } = await send());
  if (!response.ok) throw failure(body);
  return body;
}

function claimsOf(jwt) {
  const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
}

function render() {
  $('session').hidden = tokens === undefined;
  $('sign-in').hidden = tokens !== undefined;
  const table = $('claims');
  table.replaceChildren();
  if (tokens === undefined) return;
  $('token-type').textContent = tokens.token_type;
  for (const [name, value] of Object.entries(claimsOf(tokens.access_token))) {
    const row = table.insertRow();
    row.dataset.claim = name;
    const th = document.createElement('th');
    th.textContent = name;
    row.append(th);
    const shown =
      name === 'iat' || name === 'exp' ? `${value} (${new Date(value * 1000).toISOString()})` : value;
    row.insertCell().textContent = typeof shown === 'string' ? shown : JSON.stringify(shown);
  }
}

async function run(action) {
  try {
    await action();
  } catch (error) {
    show(error.message, true);
  }
}

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  run(async () => {
    show('Signing in…');
    tokens = await tokenRequest({
      grant_type: PASSWORD_REALM,
      realm: $('realm').value,
      username: $('username').value,
      password: $('password').value,
      audience: settings.audience,
      scope: settings.scope,
    });
    $('password').value = '';
    render();
    show(`Signed in to ${$('realm').selectedOptions[0].textContent}.`);
  });
});

$('refresh').addEventListener('click', () =>
  run(async () => {
    // Each refresh rotates the refresh token: the old one stops working. The refresh token is bound
    // to the page's key too: the proof must be signed by the same key as at sign-in.
    tokens = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    render();
    show(`Refreshed at ${new Date().toISOString()}.`);
  }),
);

$('call-api').addEventListener('click', () =>
  run(async () => {
    // RFC 9449 §7.1: a bound token goes in `Authorization: DPoP`, with a proof for this call.
    const api = new URL('api/orders', location.href);
    const response = await fetch(api, {
      headers: {
        Authorization: `DPoP ${tokens.access_token}`,
        DPoP: await dpopProof('GET', api.href, { accessToken: tokens.access_token }),
      },
    });
    $('api-result').textContent = JSON.stringify(await response.json(), null, 2);
    show(`API answered ${response.status}.`, !response.ok);
  }),
);

$('sign-out').addEventListener('click', () =>
  run(async () => {
    // RFC 7009: revoking the refresh token ends its whole rotation family on the server. Revocation
    // takes no proof (RFC 9449 defines none for it): whoever holds the token may end it.
    const { response, body } = await post(new URL('oauth/revoke', settings.issuer), {
      token: tokens.refresh_token,
      token_type_hint: 'refresh_token',
    });
    if (!response.ok) throw failure(body);
    tokens = undefined;
    render();
    show('Signed out: the refresh token is revoked.');
  }),
);
