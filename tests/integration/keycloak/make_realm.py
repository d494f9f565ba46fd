#!/usr/bin/env python3
"""Renders the Keycloak realm the SMART integration tests run against.

    make_realm.py TEMPLATE KEY_DIR OUT

Creates KEY_DIR/rs384.pem (RSA 2048) and KEY_DIR/es384.pem (EC P-384) with
openssl when they do not exist, and writes OUT: TEMPLATE with
  * "@JWKS@" replaced by a JWKS holding both public keys (kids "rs384-1" and
    "es384-1"), so the clients authenticate by a JWT signed with either key;
  * a client scope per SMART scope the adapter could ask for: v2
    (system/<Type>.<the usual subsets of cruds>) and v1 (read, write, *),
    for each resource type below and for "*";
  * each client's "mst.smart.scopes" attribute ("all" or "all-but:<Type>")
    expanded into its optional client scopes, so a token request naming them
    in `scope` gets them in the token's scope claim.
Keys are made at test time so no private key lives in the repository."""

import base64
import json
import os
import subprocess
import sys

RESOURCE_TYPES = [
    "Patient", "Condition", "Observation", "CarePlan", "Procedure", "MedicationRequest",
    "MedicationAdministration", "MedicationStatement", "Consent", "Medication", "Goal", "CareTeam",
    "ServiceRequest", "Provenance", "Device",
]
# SMART v2 permissions (letters in c r u d s order) a client might ask for; not
# all 31 subsets: each client scope costs Keycloak import time.
V2_PERMISSIONS = ["r", "s", "rs", "c", "u", "d", "cu", "ud", "cud", "cr", "crs", "cru", "rus",
                  "crus", "cruds"]
KEYS = {"rs384-1": ("rs384.pem", "RS384"), "es384-1": ("es384.pem", "ES384")}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


def ensure_keys(key_dir):
    os.makedirs(key_dir, exist_ok=True)
    rs, es = (os.path.join(key_dir, KEYS[k][0]) for k in ("rs384-1", "es384-1"))
    old = os.umask(0o077)
    try:
        if not os.path.exists(rs):
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rs)
        if not os.path.exists(es):
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
                    "-out", es)
    finally:
        os.umask(old)


def public_jwk(kid, pem_path, alg):
    if alg == "RS384":
        modulus = openssl("rsa", "-in", pem_path, "-noout", "-modulus").decode()
        n = bytes.fromhex(modulus.strip().split("=", 1)[1])
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": alg, "n": b64url(n), "e": "AQAB"}
    # SubjectPublicKeyInfo of a P-384 key ends in the uncompressed point 04 || X || Y.
    der = openssl("pkey", "-in", pem_path, "-pubout", "-outform", "DER")
    point = der[-97:]
    if point[0] != 4:
        raise SystemExit(f"make_realm: {pem_path} is not an uncompressed P-384 key")
    return {"kty": "EC", "kid": kid, "use": "sig", "alg": alg, "crv": "P-384",
            "x": b64url(point[1:49]), "y": b64url(point[49:])}


def smart_scopes(resource_type):
    return [f"system/{resource_type}.{p}" for p in V2_PERMISSIONS + ["read", "write", "*"]]


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    template, key_dir, out = sys.argv[1:]
    ensure_keys(key_dir)
    jwks = {"keys": [public_jwk(kid, os.path.join(key_dir, f), alg)
                     for kid, (f, alg) in KEYS.items()]}
    with open(os.path.join(key_dir, "jwks.json"), "w") as f:
        json.dump(jwks, f, indent=1)
    with open(template) as f:
        realm = json.load(f)

    all_types = RESOURCE_TYPES + ["*"]
    scopes = {t: smart_scopes(t) for t in all_types}
    realm["clientScopes"] = [
        {"name": s, "protocol": "openid-connect",
         "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "false"}}
        for t in all_types for s in scopes[t]]
    for client in realm["clients"]:
        attrs = client.get("attributes", {})
        if attrs.get("jwks.string") == "@JWKS@":
            attrs["jwks.string"] = json.dumps(jwks)
        grant = attrs.pop("mst.smart.scopes", None)
        if grant == "all":
            client["optionalClientScopes"] = [s for t in all_types for s in scopes[t]]
        elif grant and grant.startswith("all-but:"):
            # Without the type's own scopes and the wildcard ones that would cover it.
            left_out = grant.split(":", 1)[1]
            client["optionalClientScopes"] = [
                s for t in all_types if t not in (left_out, "*") for s in scopes[t]]
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(realm, f, indent=1)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
