#!/usr/bin/python3
"""authlib_rp.py - a diary's login with Python Authlib as Debian ships it
(python3-authlib, python3-requests), with its defaults and the settings
docs/oauth.md gives, driven by pkg/server's TestAuthlib:

    authlib_rp.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI [EXTRA_AUTH_PARAMS_JSON]

It reads the broker's discovery document, prints {"authorization_url": ...}
as one JSON line, reads the callback URL the browser reached from one line
of stdin, then exchanges the code (PKCE S256, state checked; the client
authenticates with client_secret_basic, Authlib's default), validates the
ID token against the JWKS (signature, iss, aud, exp, nonce and at_hash),
reads userinfo, refreshes (and validates the new ID token the same way) and
revokes the refresh token. The last JSON line on stdout tells what
happened; any error exits non-zero with the traceback on stderr.
"""
import json
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import InvalidClaimError
from authlib.oidc.core import CodeIDToken


def validate_id_token(id_token, jwks, issuer, client_id, nonce, access_token):
    """The ID token's claims, validated as Authlib does for the code flow."""
    claims = jwt.decode(
        id_token, jwks, claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": issuer}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": access_token})
    claims.validate(leeway=5)
    return claims


def main():
    issuer, client_id, client_secret, redirect_uri = sys.argv[1:5]
    extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    if meta["issuer"] != issuer:
        raise SystemExit("issuer mismatch: " + meta["issuer"])
    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())

    client = OAuth2Session(client_id, client_secret, scope="openid profile",
                           redirect_uri=redirect_uri, code_challenge_method="S256")
    code_verifier = generate_token(48)
    nonce = generate_token(20)
    uri, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce, **extra)
    print(json.dumps({"authorization_url": uri}), flush=True)

    callback = sys.stdin.readline().strip()
    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               state=state, code_verifier=code_verifier)
    claims = validate_id_token(token["id_token"], jwks, issuer, client_id, nonce, token["access_token"])
    # at_hash is really checked: the same ID token with another access
    # token must be refused.
    try:
        validate_id_token(token["id_token"], jwks, issuer, client_id, nonce, "another-access-token")
        at_hash_checked = False
    except InvalidClaimError as e:
        at_hash_checked = "at_hash" in str(e)

    userinfo = client.get(meta["userinfo_endpoint"], timeout=10).json()

    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    refreshed_claims = None
    if "id_token" in refreshed:
        refreshed_claims = validate_id_token(refreshed["id_token"], jwks, issuer, client_id, None,
                                             refreshed["access_token"])
    userinfo_after_refresh = client.get(meta["userinfo_endpoint"], timeout=10).status_code

    revoked = client.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"],
                                  token_type_hint="refresh_token").status_code
    refresh_after_revocation = requests.post(
        meta["token_endpoint"], auth=(client_id, client_secret), timeout=10,
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]}).json().get("error", "accepted")

    print(json.dumps({
        "id_token_claims": dict(claims),
        "id_token_alg": claims.header["alg"],
        "at_hash_checked": at_hash_checked,
        "userinfo": userinfo,
        "refreshed": {
            "access_token_changed": refreshed["access_token"] != token["access_token"],
            "refresh_token_changed": refreshed["refresh_token"] != token["refresh_token"],
            "id_token_claims": dict(refreshed_claims) if refreshed_claims is not None else None,
        },
        "userinfo_after_refresh": userinfo_after_refresh,
        "revocation_status": revoked,
        "refresh_after_revocation": refresh_after_revocation,
    }), flush=True)


if __name__ == "__main__":
    main()
