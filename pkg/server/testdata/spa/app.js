// app.js — a diary as a single-page app, with nothing but the browser's
// fetch and Web Crypto: the dev public client demo-spa (no secret), PKCE
// S256, every call to the broker cross-origin (CORS). config.js defines
// BROKER (the issuer), CLIENT (the client id) and EXTRA (further
// authorization parameters, e.g. the simulator's sim_person in dev mode).
// pkg/server's TestDemoSPAInChromium serves it and reads #result.
"use strict";

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromB64url = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const form = (fields) => ({ method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) });
const discovery = () => fetch(BROKER + "/.well-known/openid-configuration").then((r) => r.json());

// login: PKCE S256, state and nonce kept in sessionStorage, then off to the
// broker's authorization endpoint.
async function login() {
  const meta = await discovery();
  const verifier = random(), state = random(), nonce = random();
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("login", JSON.stringify({ verifier, state, nonce }));
  const q = new URLSearchParams({ response_type: "code", client_id: CLIENT, redirect_uri: location.origin + "/callback",
    scope: "openid profile offline_access", code_challenge: challenge, code_challenge_method: "S256", state, nonce, ...EXTRA });
  location.assign(meta.authorization_endpoint + "?" + q);
}

// verifyIDToken checks the ID token's ES256 or RS256 signature against the
// JWKS with Web Crypto, then iss, aud, exp and nonce; it returns the claims.
async function verifyIDToken(meta, idToken, nonce) {
  const [h, p, s] = idToken.split(".");
  const header = JSON.parse(new TextDecoder().decode(fromB64url(h)));
  const claims = JSON.parse(new TextDecoder().decode(fromB64url(p)));
  const jwks = await (await fetch(meta.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error("no key " + header.kid);
  const alg = header.alg === "ES256" ? { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("jwk", jwk, alg, false, ["verify"]);
  if (!(await crypto.subtle.verify(alg, key, fromB64url(s), new TextEncoder().encode(h + "." + p)))) throw new Error("bad signature");
  const aud = [].concat(claims.aud);
  if (claims.iss !== meta.issuer || !aud.includes(CLIENT) || claims.exp * 1000 < Date.now() || (nonce && claims.nonce !== nonce)) {
    throw new Error("bad claims " + JSON.stringify(claims));
  }
  return claims;
}

// callback: the code exchanged, the ID token verified, userinfo read, the
// tokens refreshed, then both revoked; what each step got goes to #result.
async function callback() {
  const meta = await discovery();
  const saved = JSON.parse(sessionStorage.getItem("login") || "{}");
  sessionStorage.removeItem("login");
  const q = new URLSearchParams(location.search);
  if (!saved.state || q.get("state") !== saved.state) throw new Error("state mismatch");
  if (q.get("error")) throw new Error(q.get("error"));
  const res = {};
  const tokRes = await fetch(meta.token_endpoint, form({ grant_type: "authorization_code", code: q.get("code"),
    redirect_uri: location.origin + "/callback", client_id: CLIENT, code_verifier: saved.verifier }));
  const tok = await tokRes.json();
  res.token_status = tokRes.status;
  const claims = await verifyIDToken(meta, tok.id_token, saved.nonce);
  res.id_token = { sub: claims.sub, person_id: claims.person_id };
  const userinfo = (token) => fetch(meta.userinfo_endpoint, { headers: { Authorization: "Bearer " + token } });
  res.userinfo = await (await userinfo(tok.access_token)).json();

  const refRes = await fetch(meta.token_endpoint, form({ grant_type: "refresh_token", refresh_token: tok.refresh_token, client_id: CLIENT }));
  const ref = await refRes.json();
  res.refresh_status = refRes.status;
  res.refreshed_new_tokens = ref.access_token !== tok.access_token && ref.refresh_token !== tok.refresh_token;
  if (ref.id_token) res.refreshed_id_token_sub = (await verifyIDToken(meta, ref.id_token, null)).sub;
  res.userinfo_after_refresh = (await userinfo(ref.access_token)).status;

  res.revoke_access = (await fetch(meta.revocation_endpoint, form({ token: ref.access_token, token_type_hint: "access_token", client_id: CLIENT }))).status;
  res.revoke_refresh = (await fetch(meta.revocation_endpoint, form({ token: ref.refresh_token, token_type_hint: "refresh_token", client_id: CLIENT }))).status;
  const revoked = await userinfo(ref.access_token);
  res.userinfo_after_revocation = revoked.status;
  res.www_authenticate = revoked.headers.get("WWW-Authenticate");
  res.refresh_after_revocation = (await (await fetch(meta.token_endpoint,
    form({ grant_type: "refresh_token", refresh_token: ref.refresh_token, client_id: CLIENT }))).json()).error;

  const out = new URLSearchParams({ client_id: CLIENT, id_token_hint: tok.id_token, post_logout_redirect_uri: location.origin + "/", state: "logged-out" });
  const a = document.getElementById("logout");
  a.href = meta.end_session_endpoint + "?" + out;
  a.hidden = false;
  return res;
}

if (location.pathname === "/callback") {
  callback().then((res) => { document.getElementById("result").textContent = JSON.stringify(res); },
    (e) => { document.getElementById("result").textContent = "failed: " + e; });
} else {
  const q = new URLSearchParams(location.search);
  if (q.get("state") === "logged-out") document.getElementById("status").textContent = "Вы вышли.";
  document.getElementById("login").addEventListener("click", () => login().catch((e) => {
    document.getElementById("status").textContent = "failed: " + e;
  }));
}
