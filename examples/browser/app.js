// The page of a single-page app that signs its users in with passgate's password-realm grant.
// Tokens live in this module's memory only: not in localStorage, where any script injected into
// the page could read them at leisure, and gone when the tab closes (see docs/browser-apps.md).

const PASSWORD_REALM = 'http://auth0.com/oauth/grant-type/password-realm';
const $ = (id) => document.getElementById(id);

const settings = await (await fetch('settings.json')).json();
let tokens;

$('origin').textContent = location.origin;
$('issuer').textContent = settings.issuer;
$('client').textContent = settings.clientId;

function show(message, isError = false) {
  $('status').textContent = message;
  $('status').className = isError ? 'error' : '';
}

/** Form-encoded, as RFC 6749 §4.3.2 says: a "simple" request, so the browser sends no preflight. */
async function post(path, parameters) {
  let response;
  try {
    response = await fetch(new URL(path, settings.issuer), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: settings.clientId, ...parameters }),
    });
  } catch {
    // The browser hides why; a response without Access-Control-Allow-Origin is the usual cause.
    throw new Error(
      `The browser refused the answer from ${settings.issuer} (CORS): is ${location.origin} in the allowedOrigins of client "${settings.clientId}"?`,
    );
  }
  const text = await response.text();
  const body = text === '' ? {} : JSON.parse(text);
  if (!response.ok) throw new Error(`${body.error}: ${body.error_description}`);
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
    tokens = await post('oauth/token', {
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
    // Each refresh rotates the refresh token: the old one stops working.
    tokens = await post('oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    render();
    show(`Refreshed at ${new Date().toISOString()}.`);
  }),
);

$('call-api').addEventListener('click', () =>
  run(async () => {
    const response = await fetch('api/orders', {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    $('api-result').textContent = JSON.stringify(await response.json(), null, 2);
    show(`API answered ${response.status}.`, !response.ok);
  }),
);

$('sign-out').addEventListener('click', () =>
  run(async () => {
    // RFC 7009: revoking the refresh token ends its whole rotation family on the server.
    await post('oauth/revoke', { token: tokens.refresh_token, token_type_hint: 'refresh_token' });
    tokens = undefined;
    render();
    show('Signed out: the refresh token is revoked.');
  }),
);
