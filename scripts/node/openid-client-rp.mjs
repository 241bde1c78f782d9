// openid-client-rp.mjs — a diary's login with the npm openid-client (v6),
// its defaults and the settings docs/oauth.md gives, driven by
// pkg/server's TestOpenIDClient:
//
//   node openid-client-rp.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI POST_LOGOUT_URI [EXTRA_AUTH_PARAMS_JSON]
//
// It discovers the broker, prints {"authorization_url": …} as one JSON line,
// reads the callback URL the browser reached from one line of stdin, then
// exchanges the code (PKCE S256, state and nonce checked, the ID token
// validated by the library), reads userinfo, refreshes, introspects the
// refreshed access token (client_secret_post, the library's default),
// revokes both tokens, introspects again and builds the RP-initiated logout
// URL; the last JSON line on stdout tells what happened. Any error exits 1
// with the error on stderr.
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const [issuer, clientId, clientSecret, redirectUri, postLogoutUri, extra] = process.argv.slice(2)

// The broker in the tests (and 'broker dev') is plain http on loopback:
// allowInsecureRequests is for that only; production issuers are https.
const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
  execute: [client.allowInsecureRequests],
})

const codeVerifier = client.randomPKCECodeVerifier()
const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier)
const state = client.randomState()
const nonce = client.randomNonce()
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile',
  code_challenge: codeChallenge,
  code_challenge_method: 'S256',
  state,
  nonce,
  ...(extra ? JSON.parse(extra) : {}),
})
console.log(JSON.stringify({ authorization_url: authorizationUrl.href }))

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const callback = (await lines.next()).value

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: codeVerifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
})
const claims = tokens.claims()
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
const introspection = await client.tokenIntrospection(config, refreshed.access_token)
await client.tokenRevocation(config, refreshed.access_token)
await client.tokenRevocation(config, refreshed.refresh_token ?? tokens.refresh_token)
const introspectionAfterRevocation = await client.tokenIntrospection(config, refreshed.access_token)
let refreshAfterRevocation = 'accepted'
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token ?? tokens.refresh_token)
} catch (e) {
  refreshAfterRevocation = e.error ?? String(e)
}

const endSessionUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogoutUri,
  state,
})

console.log(JSON.stringify({
  id_token_claims: claims,
  token_type: tokens.token_type,
  userinfo,
  refreshed: {
    access_token_changed: refreshed.access_token !== tokens.access_token,
    refresh_token_changed: !!refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token,
    id_token_claims: refreshed.id_token ? refreshed.claims() : null,
  },
  introspection,
  introspection_after_revocation: introspectionAfterRevocation,
  refresh_after_revocation: refreshAfterRevocation,
  end_session_url: endSessionUrl.href,
  state,
}))
process.exit(0)
