#!/usr/bin/env python3
"""Closed-loop load for `mst-adapter serve`: C worker processes, each with one
keep-alive connection, send a fixed total of N `patient-view` calls (the
calls of serve_calls.py, each worker cycling from its own offset) and time
each one from send to the last byte of the answer.

    load_driver.py --url URL --calls FILE --concurrency C --requests N
                   [--label NAME] [--es384-key PEM --iss ISS --aud AUD]
    load_driver.py make-key PEM JWKS    (a new P-384 key and its JWKS, kid bench-ehr)

Processes rather than threads: at 32 connections a thread driver's GIL would
queue answers that arrived and count its own wait as the service's latency.
A call counts as an error unless it answers 200 with at least one card (every
call is of a patient for whom a plan is expected). With --es384-key each call
carries its own ES384 JWT (fresh jti), signed before the clock starts.
Prints one JSON line: p50/p90/p99/max in ms, throughput, error counts.
"""
import argparse
import base64
import http.client
import json
import multiprocessing
import sys
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_tokens(pem_path, iss, aud, count, prefix):
    """`count` ES384 JWTs, each with its own jti, valid for 5 minutes."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    with open(pem_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    header = b64url(json.dumps({"alg": "ES384", "typ": "JWT", "kid": "bench-ehr"}).encode())
    now = int(time.time())
    tokens = []
    for k in range(count):
        claims = {"iss": iss, "sub": "mst-bench", "aud": aud, "iat": now, "exp": now + 295,
                  "jti": f"{prefix}-{k}"}
        signing_input = f"{header}.{b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA384())))
        tokens.append(signing_input + "." + b64url(r.to_bytes(48, "big") + s.to_bytes(48, "big")))
    return tokens


def make_key(pem_path, jwks_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP384R1())
    with open(pem_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    n = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-384", "kid": "bench-ehr", "use": "sig", "alg": "ES384",
           "x": b64url(n.x.to_bytes(48, "big")), "y": b64url(n.y.to_bytes(48, "big"))}
    with open(jwks_path, "w") as f:
        json.dump({"keys": [jwk]}, f)


def has_card(data):
    try:
        cards = json.loads(data).get("cards")
    except ValueError:
        return False
    return isinstance(cards, list) and len(cards) > 0


def worker(url, bodies, offset, count, tokens, barrier, results):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    latencies, errors, answers = [], {}, []
    barrier.wait()
    start = time.perf_counter()
    for k in range(count):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if tokens:
            headers["Authorization"] = "Bearer " + tokens[k]
        body = bodies[(offset + k) % len(bodies)]
        t0 = time.perf_counter()
        try:
            conn.request("POST", u.path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            continue
        latencies.append(time.perf_counter() - t0)
        answers.append((status, data))
    end = time.perf_counter()
    conn.close()
    # Checked after the clock stops: parsing answers is the driver's cost.
    for status, data in answers:
        if status != 200:
            errors[f"status {status}"] = errors.get(f"status {status}", 0) + 1
        elif not has_card(data):
            errors["200 without a card"] = errors.get("200 without a card", 0) + 1
    results.put({"latencies": latencies, "errors": errors, "start": start, "end": end})


def percentile(sorted_values, p):
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def run(url, bodies, concurrency, requests, tokens=None):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(concurrency)
    results = ctx.Queue()
    share = [requests // concurrency + (1 if w < requests % concurrency else 0) for w in range(concurrency)]
    procs, used = [], 0
    for w in range(concurrency):
        mine = tokens[used:used + share[w]] if tokens else None
        used += share[w]
        offset = (w * 7) % len(bodies)
        procs.append(ctx.Process(target=worker, args=(url, bodies, offset, share[w], mine, barrier, results)))
    for p in procs:
        p.start()
    parts = [results.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for part in parts for x in part["latencies"])
    errors = {}
    for part in parts:
        for k, v in part["errors"].items():
            errors[k] = errors.get(k, 0) + v
    wall = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    ms = [x * 1e3 for x in latencies]
    return {"concurrency": concurrency, "requests": requests, "answered": len(latencies),
            "errors": sum(errors.values()), "error_kinds": errors, "wall_s": round(wall, 3),
            "rps": round(len(latencies) / wall, 1) if wall > 0 else 0.0,
            "p50_ms": round(percentile(ms, 50), 2), "p90_ms": round(percentile(ms, 90), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(ms[-1], 2) if ms else float("nan"),
            "mean_ms": round(sum(ms) / len(ms), 2) if ms else float("nan")}


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "make-key":
        make_key(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--calls", required=True)
    ap.add_argument("--concurrency", type=int, required=True)
    ap.add_argument("--requests", type=int, required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--es384-key")
    ap.add_argument("--iss")
    ap.add_argument("--aud")
    a = ap.parse_args()
    if a.concurrency < 1 or a.requests < a.concurrency:
        sys.exit("load_driver: need 1 <= concurrency <= requests")
    with open(a.calls) as f:
        bodies = [json.dumps(c["body"], separators=(",", ":")).encode() for c in json.load(f)]
    if not bodies:
        sys.exit("load_driver: no calls")
    tokens = None
    if a.es384_key:
        if not (a.iss and a.aud):
            sys.exit("load_driver: --es384-key needs --iss and --aud")
        tokens = sign_tokens(a.es384_key, a.iss, a.aud, a.requests, f"{a.label or 'run'}-{time.time_ns()}")
    result = run(a.url, bodies, a.concurrency, a.requests, tokens)
    result["label"] = a.label
    result["body_kb_mean"] = round(sum(map(len, bodies)) / len(bodies) / 1024, 1)
    print(json.dumps(result))
    print(f"load_driver: {a.label}: p50 {result['p50_ms']} p99 {result['p99_ms']} ms, {result['rps']}/s, "
          f"{result['errors']} errors", file=sys.stderr)


if __name__ == "__main__":
    main()
