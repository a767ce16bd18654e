// A real OpenID Connect provider for the sign-in tests: panva's `oidc-provider` (pinned in
// package.json), with its development login form (any login, any password).
//
//   node oidc.mjs '<json>'
//
// where the JSON gives `client_id`, `client_secret`, `redirect_uri` and `accounts`: login name ->
// { email, email_verified }. A login not listed gets `<login>@unlisted.example`, verified.
// It listens on a free port of 127.0.0.1 and prints one line, `issuer <url>`, when ready.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      // A loopback redirect address of a native client matches on any port (RFC 8252, 7.3), so
      // the provider can start before councilflow has picked its port.
      application_type: 'native',
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: [config.redirect_uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Put the email in the ID token (Entra ID does), not only behind the userinfo endpoint.
    conformIdTokenClaims: false,
    findAccount: (ctx, id) => ({
      accountId: id,
      async claims() {
        const account = config.accounts[id] ?? { email: `${id}@unlisted.example`, email_verified: true };
        return { sub: id, ...account };
      },
    }),
    // First-party client: no consent screen (a council's own app registration is pre-consented).
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  console.log(`issuer ${issuer}`);
});
