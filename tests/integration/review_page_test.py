#!/usr/bin/env python3
"""The clinician review page of `serve` in a real browser (issue #14 item 3).

Loads fixture patients onto the test HAPI server (an emergency one, mst-p01,
and a routine one, mst-p02, under a unique prefix), starts `serve --server
<HAPI>`, calls patient-view with full prefetch built from each bundle, and
opens the card's link in headless Chromium:
- --dump-dom: the visible text (goals, urgency, data gaps), landmarks
  (header, main, nav), one h1 and no skipped heading level, `lang`, alt on
  every <img>, no external asset; the urgency colours of the page's own
  stylesheet have a contrast ratio of at least 4.5:1 (WCAG 2.1 AA);
- --screenshot: kept as $MST_ARTIFACTS_DIR/review-<patient>.png;
then presses the write button as the browser would (a POST of the form
fields read from the dumped DOM, with the browser's Origin and
Sec-Fetch-Site): the CarePlan is on HAPI, a second POST is refused (409),
a cross-site POST is refused (403), and an unknown link answers 404.

Exit 77 (skipped) when chromium is not installed (scripts/install-deps
installs it).
"""
import html.parser
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_support as e2e  # noqa: E402
from cds_client import prefetch_from_resources  # noqa: E402

SERVICE = "mst-spine-careplan"
PATIENTS = {"mst-p01": "u-stat", "mst-p02": "u-routine"}  # overall urgency badge


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {},
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Page(html.parser.HTMLParser):
    """What the checks read of a dumped DOM."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.tags = []
        self.headings = []
        self.imgs_without_alt = 0
        self.external = []
        self.forms = []
        self.style = ""
        self.text = []
        self._in = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img" and not a.get("alt"):
            self.imgs_without_alt += 1
        for attr in ("src", "srcset"):
            if a.get(attr):
                self.external.append(a[attr])
        if tag == "link" and a.get("href"):
            self.external.append(a["href"])
        if tag == "script":
            self.external.append("a script")
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}})
        if tag == "input" and self.forms:
            self.forms[-1]["fields"][a.get("name")] = a.get("value", "")
        self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if self._in and self._in[-1] == "style":
            self.style += data
        elif not (self._in and self._in[-1] in ("title", "script")):
            self.text.append(data)

    def visible(self):
        return re.sub(r"\s+", " ", " ".join(self.text))


def luminance(hex_colour):
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    out = []
    for i in (0, 2, 4):
        c = int(h[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2]


def contrast(a, b):
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def urgency_colours(style):
    """{class: (text, background)} of the .u-* rules of the stylesheet."""
    out = {}
    for m in re.finditer(r"\.(u-[a-z]+)\s*\{([^}]*)\}", style):
        props = dict(p.split(":", 1) for p in m.group(2).split(";") if ":" in p)
        props = {k.strip(): v.strip() for k, v in props.items()}
        out[m.group(1)] = (props.get("color"), props.get("background"))
    return out


def chromium(binary, profile, *args):
    cmd = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def check_page(name, page, badge):
    expect(page.lang == "en", f"{name}: html lang is {page.lang!r}")
    for landmark in ("header", "main", "nav"):
        expect(landmark in page.tags, f"{name}: no <{landmark}>")
    expect(page.headings and page.headings[0] == 1 and page.headings.count(1) == 1,
           f"{name}: one h1, first: {page.headings}")
    for prev, cur in zip(page.headings, page.headings[1:]):
        expect(cur <= prev + 1, f"{name}: heading level skipped: {page.headings}")
    expect(page.imgs_without_alt == 0, f"{name}: an <img> without alt")
    expect(not page.external, f"{name}: external assets or scripts: {page.external}")
    text = page.visible()
    for words in ("Pathway and actions now", "Proposed goals", "Priority", "Urgency", "Target",
                  "Referrals", "Data gaps", "Patient preferences", "Why each goal",
                  "Sources the rules rest on", "Write the draft plan"):
        expect(words in text, f"{name}: the page does not show {words!r}")
    colours = urgency_colours(page.style)
    expect(set(colours) >= {"u-stat", "u-asap", "u-urgent", "u-routine"},
           f"{name}: urgency classes in the stylesheet: {sorted(colours)}")
    for cls, (fg, bg) in colours.items():
        ratio = contrast(fg, bg)
        expect(ratio >= 4.5, f"{name}: .{cls} {fg} on {bg} has contrast {ratio:.2f} < 4.5")
    expect("@media print" in page.style, f"{name}: no print stylesheet")
    return text


def main():
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        print("chromium not installed: skipped (scripts/install-deps installs it)")
        return 77
    artifacts = os.environ.get("MST_ARTIFACTS_DIR") or tempfile.mkdtemp(prefix="review-art-")
    os.makedirs(artifacts, exist_ok=True)
    hapi = e2e.base_url()
    fhir = e2e.Fhir(hapi)
    prefix = e2e.unique_prefix("rv")
    ids = e2e.load_prefixed(fhir, prefix, sorted(PATIENTS))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "adapter.json")
        with open(config, "w") as f:
            json.dump({"serve": {"public_url": base}}, f)
        proc = subprocess.Popen([e2e.adapter_path(), "serve", "--config", config, "--server", hapi,
                                 "--listen", f"127.0.0.1:{port}", "--as-of", e2e.AS_OF],
                                stderr=subprocess.PIPE, text=True)
        try:
            expect(e2e.wait_for(lambda: proc.poll() is not None or _up(base), timeout=60)
                   and proc.poll() is None, "serve did not start")
            templates = json.loads(http(base + "/cds-services")[1])["services"][0]["prefetch"]
            for fixture, badge in PATIENTS.items():
                patient = f"{prefix}-{fixture}"
                with open(os.path.join(e2e.FIXTURES, fixture + ".json")) as f:
                    bundle = json.loads(f.read().replace("mst-p", prefix + "-mst-p"))
                pid, prefetch = prefetch_from_resources(
                    [e["resource"] for e in bundle["entry"] if "resource" in e], templates)
                expect(pid == patient and patient in ids, f"{fixture}: patient id {pid}")
                status, text = http(base + f"/cds-services/{SERVICE}", json.dumps({
                    "hook": "patient-view", "hookInstance": f"review-{patient}",
                    "context": {"userId": "Practitioner/1", "patientId": patient},
                    "prefetch": prefetch}).encode(), {"Content-Type": "application/json"})
                expect(status == 200, f"{fixture}: patient-view {status} {text[:300]}")
                card = json.loads(text)["cards"][0]
                link = card["links"][0]
                expect(link["type"] == "absolute" and link["label"] == "Review the draft plan",
                       f"{fixture}: card link {link}")
                url = link["url"]
                expect(url.startswith(f"{base}/review/{patient}?t="), f"{fixture}: link {url}")

                profile = os.path.join(tmp, "profile-" + fixture)
                dumped = chromium(binary, profile, "--dump-dom", url)
                expect(dumped.returncode == 0 and "<main>" in dumped.stdout,
                       f"{fixture}: chromium --dump-dom exit {dumped.returncode}: "
                       f"{dumped.stderr.strip()[-300:]}")
                page = Page()
                page.feed(dumped.stdout)
                text = check_page(fixture, page, badge)
                expect(f'class="badge {badge}"' in dumped.stdout,
                       f"{fixture}: overall urgency badge {badge} missing")
                for goal in ("Pain relief",):
                    expect(goal.lower() in text.lower(), f"{fixture}: goal {goal!r} not shown")
                shot = os.path.join(artifacts, f"review-{fixture}.png")
                taken = chromium(binary, profile, f"--screenshot={shot}", "--window-size=1280,2000",
                                 url)
                expect(taken.returncode == 0 and os.path.getsize(shot) > 10_000,
                       f"{fixture}: no screenshot ({taken.stderr.strip()[-300:]})")

                form = page.forms[0]
                action = urllib.parse.urljoin(url, form["action"])
                body = urllib.parse.urlencode(form["fields"]).encode()
                browser = {"Content-Type": "application/x-www-form-urlencoded",
                           "Origin": base, "Sec-Fetch-Site": "same-origin"}
                status, text = http(action, body, {**browser, "Origin": "https://evil.example",
                                                   "Sec-Fetch-Site": "cross-site"})
                expect(status == 403, f"{fixture}: cross-site write {status}")
                expect(not fhir.plans_of(patient), f"{fixture}: a refused write wrote a plan")
                status, text = http(action, body, browser)
                expect(status == 200 and "Written: CarePlan/" in text,
                       f"{fixture}: write {status} {text[-400:]}")
                plans = fhir.plans_of(patient)
                expect(len(plans) == 1 and plans[0]["status"] == "draft",
                       f"{fixture}: plans on HAPI after the write: {len(plans)}")
                status, text = http(action, body, browser)
                expect(status == 409 and "refused" in text, f"{fixture}: replay {status}")
                expect(len(fhir.plans_of(patient)) == 1, f"{fixture}: the replay wrote")
                print(f"{fixture}: page checked, screenshot {shot}, written once")

            status, text = http(f"{base}/review/{prefix}-mst-p01?t={'0' * 64}")
            expect(status == 404 and "not recognised" in text, f"unknown link: {status}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            err = proc.stderr.read()
        expect("review.write" in err, "the writes are logged")
    return 0


def _up(base):
    try:
        return http(base + "/healthz")[0] == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
