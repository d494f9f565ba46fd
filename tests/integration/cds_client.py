"""A CDS Hooks 2.0 client of our own, as an EHR calls `mst-adapter serve`: the
EHR's signing keys (ES384 and RS384 JWTs), prefetch built the way an EHR
builds it, and a check of cards against the specification's required fields.
Needs python3-cryptography (scripts/install-deps).

Spec: https://cds-hooks.hl7.org/2.0/ (Trusting CDS Clients; Prefetch; CDS
Service Response: Card, Source, Suggestion, Action, overrideReasons)."""

import base64
import json
import time
import urllib.parse

from e2e_support import http_call

SERVICE = "mst-spine-careplan"
INDICATORS = ("info", "warning", "critical")
ACTION_TYPES = ("create", "update", "delete")
SELECTION = ("at-most-one", "any")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class EhrKey:
    """A signing key of the test EHR, `alg` ES384 (EC P-384) or RS384 (RSA
    2048): its public JWK, and tokens it signs with the claims the spec names."""

    def __init__(self, kid, alg="ES384"):
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        self.kid, self.alg = kid, alg
        if alg == "ES384":
            self.key = ec.generate_private_key(ec.SECP384R1())
        elif alg == "RS384":
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            raise ValueError(alg)

    def jwk(self):
        n = self.key.public_key().public_numbers()
        if self.alg == "ES384":
            return {"kty": "EC", "crv": "P-384", "kid": self.kid, "use": "sig", "alg": "ES384",
                    "x": b64url(n.x.to_bytes(48, "big")), "y": b64url(n.y.to_bytes(48, "big"))}
        return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS384",
                "n": b64url(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
                "e": b64url(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big"))}

    def sign(self, signing_input):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        if self.alg == "RS384":
            return self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA384())
        # JWS wants r || s, not the DER sequence the library gives.
        r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA384())))
        return r.to_bytes(48, "big") + s.to_bytes(48, "big")

    def token(self, iss, aud, jti, lifetime=120):
        now = int(time.time())
        header = {"alg": self.alg, "typ": "JWT", "kid": self.kid}
        claims = {"iss": iss, "sub": "test-ehr-client", "aud": aud, "iat": now,
                  "exp": now + lifetime, "jti": jti}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        return signing_input.decode() + "." + b64url(self.sign(signing_input))


def call(base, path, body=None, raw=None, token=None):
    """(status, text) of a call of serve, with the EHR's bearer JWT if given."""
    headers = {"Authorization": "Bearer " + token} if token else {}
    return http_call(base + path, body=body, raw=raw, headers=headers)


def searched_type(template):
    return template.split("?", 1)[0].split("/", 1)[0]


def prefetch_from_resources(resources, templates):
    """Prefetch as an EHR fills it from one patient's resources: the Patient
    under `patient`, each other resource in the searchset of the first
    template searching its type, a type no template searches (Medication) as
    an `include` entry of the first template that _includes. Returns
    (patient id, prefetch)."""
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    entries = {key: [] for key in templates}
    for r in resources:
        if r["resourceType"] == "Patient":
            continue
        key = next((k for k, t in templates.items() if k != "patient" and searched_type(t) == r["resourceType"]),
                   None)
        mode = "match"
        if key is None:
            key, mode = next(k for k, t in templates.items() if "_include" in t), "include"
        entries[key].append({"resource": r, "search": {"mode": mode}})
    prefetch = {key: {"resourceType": "Bundle", "type": "searchset", "entry": e} for key, e in entries.items()}
    prefetch["patient"] = patient
    return patient["id"], prefetch


def prefetch_from_server(fhir, templates, patient_id, keys=None):
    """Prefetch as an EHR runs it: each template (or only `keys`) with
    {{context.patientId}} filled in, read from `fhir` (e2e_support.Fhir), every
    page of a search in one searchset."""
    prefetch = {}
    for key, template in templates.items():
        if keys is not None and key not in keys:
            continue
        query = template.replace("{{context.patientId}}", urllib.parse.quote(patient_id))
        status, first = fhir.request("GET", "/" + query)
        assert status == 200, (key, status, json.dumps(first)[:300])
        if first["resourceType"] != "Bundle":
            prefetch[key] = first
            continue
        entries = list(first.get("entry", []))
        page = first
        while any(link["relation"] == "next" for link in page.get("link", [])):
            nxt = next(link["url"] for link in page["link"] if link["relation"] == "next")
            status, text = http_call(nxt, headers={"Accept": "application/fhir+json"})
            assert status == 200, (key, status)
            page = json.loads(text)
            entries += page.get("entry", [])
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                         "entry": entries}
    return prefetch


def _is_coding(c, display_required=False):
    return (isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"]
            and isinstance(c.get("system"), str) and c["system"]
            and (not display_required or (isinstance(c.get("display"), str) and c["display"])))


def card_problems(card):
    """Where `card` breaks CDS Hooks 2.0's Card rules: a list of lines, empty
    when it keeps them. Required: summary (< 140 characters), indicator,
    source.label; uuid as this service promises one (feedback names it).
    Suggestions: label, optional uuid string, actions with a valid type, a
    description, and a resource for create/update; selectionBehavior when
    there are suggestions; overrideReasons Codings with system, code and
    display (the display is what the EHR shows)."""
    out = []
    if not isinstance(card, dict):
        return ["card is not an object"]
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary:
        out.append("summary missing")
    elif len(summary) >= 140:
        out.append(f"summary of {len(summary)} characters, must be under 140")
    if card.get("indicator") not in INDICATORS:
        out.append(f"indicator {card.get('indicator')!r} not one of {INDICATORS}")
    source = card.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("label"), str) or not source["label"]:
        out.append("source.label missing")
    elif "url" in source and not str(source["url"]).startswith(("http://", "https://")):
        out.append("source.url is not an absolute URL")
    if not isinstance(card.get("uuid"), str) or not card["uuid"]:
        out.append("uuid missing")
    if "detail" in card and not isinstance(card["detail"], str):
        out.append("detail is not a string")
    suggestions = card.get("suggestions", [])
    if not isinstance(suggestions, list):
        out.append("suggestions is not an array")
        suggestions = []
    if suggestions and card.get("selectionBehavior") not in SELECTION:
        out.append(f"selectionBehavior {card.get('selectionBehavior')!r} with suggestions")
    for i, s in enumerate(suggestions):
        where = f"suggestions[{i}]"
        if not isinstance(s.get("label"), str) or not s["label"]:
            out.append(f"{where}.label missing")
        if "uuid" in s and not isinstance(s["uuid"], str):
            out.append(f"{where}.uuid is not a string")
        if "isRecommended" in s and not isinstance(s["isRecommended"], bool):
            out.append(f"{where}.isRecommended is not a boolean")
        for j, a in enumerate(s.get("actions", [])):
            aw = f"{where}.actions[{j}]"
            if a.get("type") not in ACTION_TYPES:
                out.append(f"{aw}.type {a.get('type')!r}")
            if not isinstance(a.get("description"), str) or not a["description"]:
                out.append(f"{aw}.description missing")
            if a.get("type") in ("create", "update") and not isinstance(a.get("resource"), dict):
                out.append(f"{aw}: {a.get('type')} without a resource")
            if a.get("type") == "delete" and not isinstance(a.get("resourceId"), list):
                out.append(f"{aw}: delete without resourceId")
    reasons = card.get("overrideReasons", [])
    if not isinstance(reasons, list) or not all(_is_coding(c, display_required=True) for c in reasons):
        out.append("overrideReasons must be Codings with system, code and display")
    for link in card.get("links", []):
        if not link.get("label") or not link.get("url") or link.get("type") not in ("absolute", "smart"):
            out.append(f"link {link!r} lacks label, url or a valid type")
    return out


def goals_of(resources):
    """{goal code: priority code} of the Goal resources among `resources`."""
    out = {}
    for r in resources:
        if r.get("resourceType") == "Goal":
            code = r["description"]["coding"][0]["code"]
            out[code] = r.get("priority", {}).get("coding", [{}])[0].get("code")
    return out


def card_resources(card):
    """The resources the card's first suggestion would create or update."""
    return [a["resource"] for a in card["suggestions"][0]["actions"] if "resource" in a]
