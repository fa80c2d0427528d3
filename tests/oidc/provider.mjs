// A real OpenID Connect provider for PolicyHub's single sign-on tests: panva/oidc-provider,
// an OpenID Certified implementation, with a plain sign-in page of its own (no external fonts
// or scripts, so a browser test never reaches beyond loopback).
//
// Configured by environment, started by tests/oidc/node_provider.py:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   the one client (PolicyHub)
//   OIDC_REDIRECT_URIS                   comma-separated callback addresses
//   OIDC_POST_LOGOUT_REDIRECT_URIS       comma-separated addresses to return to after logout
//   OIDC_ACCOUNTS                        JSON list of {login, password, sub, claims}
// It listens on a free port of 127.0.0.1 and prints "ready <issuer>" once it answers.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} must be set`);
    process.exit(2);
  }
  return value;
};
const list = (name) => env(name).split(',').map((item) => item.trim()).filter(Boolean);

const accounts = JSON.parse(env('OIDC_ACCOUNTS'));
const bySub = new Map(accounts.map((account) => [account.sub, account]));
const byLogin = new Map(accounts.map((account) => [account.login.toLowerCase(), account]));

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto}label,input,button{display:block;margin:.4rem 0}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;

const loginPage = (uid, message = '') => page('Test identity provider', `
  ${message ? `<p role="alert">${escape(message)}</p>` : ''}
  <form method="post" action="/interaction/${escape(uid)}/login">
    <label for="login">Username</label><input id="login" name="login" autocomplete="username">
    <label for="password">Password</label><input id="password" name="password" type="password">
    <button type="submit">Continue</button>
  </form>
  <form method="post" action="/interaction/${escape(uid)}/cancel"><button type="submit">Cancel</button></form>`);

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const send = (res, status, html) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-signing-key', use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [{
    client_id: env('OIDC_CLIENT_ID'),
    client_secret: env('OIDC_CLIENT_SECRET'),
    redirect_uris: list('OIDC_REDIRECT_URIS'),
    post_logout_redirect_uris: list('OIDC_POST_LOGOUT_REDIRECT_URIS'),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    acr: null,
    amr: null,
    auth_time: null,
    sid: null,
    iss: null,
  },
  acrValues: ['urn:policyhub:test:password'],
  // PolicyHub must send PKCE; refusing requests without it proves that it does.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out of the test identity provider', `${form}
          <button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
          <button type="submit" form="op.logoutForm">Stay signed in</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out of the test identity provider.</p>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
  },
  // PolicyHub is a first-party client: no consent screen, every requested scope is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Test identity provider: error', `<p>${escape(out.error)}: ${escape(out.error_description)}</p>`);
  },
};

async function interaction(req, res, provider) {
  const [, , uid, action] = new URL(req.url, 'http://x').pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Test identity provider', '<p>Wrong interaction.</p>'));
  if (req.method === 'GET') return send(res, 200, loginPage(uid));
  if (req.method !== 'POST') return send(res, 405, page('Test identity provider', '<p>Method not allowed.</p>'));
  if (action === 'cancel') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person cancelled signing in.',
    }, { mergeWithLastSubmission: false });
  }
  const form = await readForm(req);
  const account = byLogin.get((form.get('login') || '').trim().toLowerCase());
  if (!account || account.password !== form.get('password')) {
    return send(res, 200, loginPage(uid, 'Wrong username or password.'));
  }
  return provider.interactionFinished(req, res, {
    login: { accountId: account.sub, amr: ['pwd'], acr: 'urn:policyhub:test:password' },
  }, { mergeWithLastSubmission: false });
}

let provider;
let handle;
const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res, provider).catch((error) => {
      console.error(error);
      if (!res.headersSent) send(res, 400, page('Test identity provider', `<p>${escape(error.message)}</p>`));
    });
    return;
  }
  handle(req, res);
});

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, configuration);
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  handle = provider.callback();
  console.log(`ready ${issuer}`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // a browser's keep-alive connections would hold close() open
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
