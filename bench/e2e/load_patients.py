#!/usr/bin/env python3
"""Loads N synthetic patients into a FHIR server on loopback: the fixture
bundles of tests/fixtures/patients/, cycled, each copy with every 'mst-p' id
rewritten to '<prefix><k>-mst-p' so copies never collide.

    load_patients.py BASE_URL COUNT PREFIX
Prints the loaded patient ids, one a line.
"""
import concurrent.futures
import glob
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = sorted(glob.glob(os.path.join(REPO, "tests", "fixtures", "patients", "mst-p*.json")))


def post(base, text):
    """POSTs one transaction Bundle; returns its transaction-response."""
    # Every copy PUTs the same shared Organization: concurrent transactions
    # can collide on it (409), and a retry then succeeds.
    for attempt in range(8):
        req = urllib.request.Request(base, data=text.encode(), method="POST",
                                     headers={"Content-Type": "application/fhir+json",
                                              "Accept": "application/fhir+json"})
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                if resp.status == 200:
                    return json.loads(resp.read())
                raise RuntimeError(f"transaction answered {resp.status}")
        except urllib.error.HTTPError as e:
            if e.code != 409 or attempt == 7:
                raise
            time.sleep(0.2 * (attempt + 1))


def merged(texts):
    """One transaction Bundle holding the entries of several: an entry whose
    request URL came earlier (the shared Organization) is left out, since a
    transaction may not PUT one resource twice. Returns (Bundle text, for
    each input the indexes of its entries in the merged Bundle)."""
    entries, where, owners = [], {}, []
    for text in texts:
        mine = []
        for e in json.loads(text)["entry"]:
            url = e["request"]["url"]
            if url not in where:
                where[url] = len(entries)
                entries.append(e)
            mine.append(where[url])
        owners.append(mine)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    return json.dumps(bundle), owners


def load(base, count, prefix, workers=4, per_transaction=1):
    """Loads `count` patients (the fixtures, cycled) under `prefix`, up to
    `per_transaction` of them in one transaction (fewer, larger commits load
    a population several times faster). Returns [(patient id, newest
    lastModified of its entries in the transaction-response)] in order."""
    base = base.rstrip("/")
    if urllib.parse.urlsplit(base).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("load_patients: the server must be on loopback")
    texts = {}
    for f in FIXTURES:
        with open(f) as fh:
            texts[f] = fh.read()
    jobs = []
    for k in range(count):
        f = FIXTURES[k % len(FIXTURES)]
        copy = f"{prefix}{k // len(FIXTURES):03d}"
        pid = os.path.basename(f)[:-5]
        jobs.append((f"{copy}-{pid}", texts[f].replace("mst-p", f"{copy}-mst-p")))
    step = max(per_transaction, 1)
    groups = [jobs[i:i + step] for i in range(0, len(jobs), step)]
    out = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        bundles = [merged([t for _, t in g]) for g in groups]
        futures = [pool.submit(post, base, text) for text, _ in bundles]
        for g, (_, owners), fut in zip(groups, bundles, futures):
            answer = fut.result().get("entry", [])
            for (pid, _), mine in zip(g, owners):
                modified = [answer[i]["response"].get("lastModified", "") for i in mine]
                out.append((pid, max(modified, default="")))
    return out


def main():
    base, count, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    try:
        for pid, _ in load(base, count, prefix):
            print(pid)
    except ValueError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main()
