// The institution's OpenID Connect provider for the local stack and the tests: npm
// `oidc-provider` (pinned in package.json; OpenID Certified), not a stand-in written here.
//
//   node provider.mjs <port> '<clients JSON>'
//   node provider.mjs 0 -
//
// <clients JSON>: [{"client_id": "...", "client_secret": "...", "redirect_uris": ["..."]}].
// Prints `listening <issuer>` on stdout once it serves. With `-`, it binds first (port 0: a
// port of its own, which no other process can take between a choice and a bind), prints
// `listening <issuer>`, then reads the clients JSON as one line on stdin (a relying party's
// callback is known only once the relying party runs) and prints `ready` once it serves them. Sign-in is the library's own
// `devInteractions` pages (a login form, then a consent form) that a test drives over HTTP.
// The login name is the account: `ana@uni.example` signs in as that verified address (the
// subject is derived from it); `unverified:ana@uni.example` as the same address, not verified.
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const clientsArg = process.argv[3] || '[]';

// The first line on stdin.
const firstLine = () =>
  new Promise((resolve, reject) => {
    let buffered = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) {
        process.stdin.pause();
        resolve(buffered.slice(0, end));
      }
    });
    process.stdin.on('end', () => reject(new Error('stdin ended before the clients line')));
  });

const account = (id) => {
  const unverified = id.startsWith('unverified:');
  const email = unverified ? id.slice('unverified:'.length) : id;
  return {
    accountId: id,
    async claims() {
      return { sub: `sub-${id}`, email, email_verified: !unverified, name: email.split('@')[0] };
    },
  };
};

const start = async () => {
  // Bind first so port 0 gives a free port, then serve with the issuer that names it.
  const http = await import('node:http');
  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const fromStdin = clientsArg === '-';
  if (fromStdin) process.stdout.write(`listening ${issuer}\n`);
  const clients = JSON.parse(fromStdin ? await firstLine() : clientsArg);
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({ grant_types: ['authorization_code'], response_types: ['code'], ...c })),
    findAccount: (_ctx, id) => account(id),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    // The library's default (conformIdTokenClaims: true), as OpenID Connect Core §5.4 says: the
    // scopes' claims (email, email_verified, name) are served at the userinfo endpoint, not in an
    // ID token issued with an access token; the relying party reads them there.
    cookies: { keys: ['local-idp-cookie-key'] },
  });
  // Plain HTTP on loopback: the library's cookies are not marked Secure behind no proxy.
  provider.proxy = false;
  server.on('request', provider.callback());
  process.stdout.write(fromStdin ? 'ready\n' : `listening ${issuer}\n`);
};

start().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
