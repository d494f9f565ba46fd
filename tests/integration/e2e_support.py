"""Helpers for the end-to-end tests: the HAPI server of the CTest fixture,
the mst-adapter binary, and fixture patients loaded under a unique prefix so
tests sharing one server never see each other's data."""

import http.server
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "patients")
AS_OF = "2026-11-20"
OWN_SYSTEM = "http://mst-adapter.example.org/fhir/NamingSystem/mst-careplan"
PRIORITY = {"high": "high-priority", "medium": "medium-priority", "low": "low-priority"}


def base_url():
    """The test HAPI server's base URL, from $MST_HAPI_STATE_DIR/url. Without
    one the test fails with this message: it never skips (a skip passes)."""
    state = os.environ.get("MST_HAPI_STATE_DIR", os.path.join(REPO, ".hapi"))
    return state_url(state, "MST_HAPI_STATE_DIR")


def state_url(state_dir, variable):
    path = os.path.join(state_dir, "url")
    try:
        with open(path) as f:
            url = f.read().strip()
    except OSError as e:
        raise RuntimeError(f"no HAPI server: {path} cannot be read ({e.strerror}); run under the "
                           f"CTest hapi fixture, or scripts/hapi start and set {variable}") from e
    if not url:
        raise RuntimeError(f"no HAPI server: {path} is empty")
    return url


def adapter_path():
    return os.environ["MST_ADAPTER"]


def expected():
    with open(os.path.join(FIXTURES, "expected.json")) as f:
        return json.load(f)


def fixture_ids():
    return sorted(k for k in expected().keys())


class Fhir:
    """A few FHIR calls over urllib, for checking what the adapter wrote."""

    def __init__(self, base):
        self.base = base

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        h = {"Accept": "application/fhir+json", "Cache-Control": "no-cache"}
        if body is not None:
            h["Content-Type"] = "application/fhir+json"
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def search(self, type_, **params):
        q = urllib.parse.urlencode(params)
        status, bundle = self.request("GET", f"/{type_}?{q}")
        assert status == 200, (status, bundle)
        out = [e["resource"] for e in bundle.get("entry", []) if "resource" in e]
        while any(l["relation"] == "next" for l in bundle.get("link", [])):
            nxt = next(l["url"] for l in bundle["link"] if l["relation"] == "next")
            with urllib.request.urlopen(urllib.request.Request(nxt, headers={"Accept": "application/fhir+json"})) as r:
                bundle = json.loads(r.read())
            out += [e["resource"] for e in bundle.get("entry", []) if "resource" in e]
        return out

    def read(self, type_, id_):
        status, res = self.request("GET", f"/{type_}/{id_}")
        assert status == 200, (status, res)
        return res

    def put(self, resource):
        return self.request("PUT", f"/{resource['resourceType']}/{resource['id']}", resource)

    def validate(self, resource):
        """Error issues of $validate (HAPI answers 200 with issues, or 4xx)."""
        status, oo = self.request("POST", f"/{resource['resourceType']}/$validate", resource)
        return [i for i in oo.get("issue", []) if i.get("severity") in ("error", "fatal")]

    def plans_of(self, patient_id):
        return self.search("CarePlan", subject=f"Patient/{patient_id}", identifier=f"{OWN_SYSTEM}|")


def goal_codes(fhir, plan):
    """{goal code: priority code} of a written plan's Goals."""
    goals = {}
    for ref in plan.get("goal", []):
        type_, id_ = ref["reference"].split("/")[-2:]
        g = fhir.read(type_, id_)
        code = g["description"]["coding"][0]["code"]
        prio = g.get("priority", {}).get("coding", [{}])[0].get("code")
        goals[code] = prio
    return goals


def goal_mismatches(exp, goals):
    """How `goals` ({code: priority}) differ from a fixture's expected.json
    entry: one line per goal missing, unexpected or of another priority."""
    out = []
    for code, prio in exp["goals"].items():
        if code not in goals:
            out.append(f"goal {code} missing")
        elif prio != "any" and goals[code] != PRIORITY[prio]:
            out.append(f"goal {code} has priority {goals[code]}, expected {PRIORITY[prio]}")
    for code in exp.get("goals_absent", []):
        if code in goals:
            out.append(f"goal {code} should be absent")
    return out


def load_prefixed(fhir, prefix, patient_ids=None):
    """Loads fixture bundles with every 'mst-p' id rewritten to '<prefix>-mst-p'.
    Returns the new patient ids."""
    loaded = []
    for pid in patient_ids or fixture_ids():
        with open(os.path.join(FIXTURES, pid + ".json")) as f:
            text = f.read().replace("mst-p", prefix + "-mst-p")
        status, body = fhir.request("POST", "", json.loads(text))
        assert status == 200, (pid, status, json.dumps(body)[:500])
        loaded.append(f"{prefix}-{pid}")
    return loaded


def unique_prefix(tag):
    return f"{tag}{uuid.uuid4().hex[:6]}"


def run_adapter(*args, check=True, timeout=300, env=None):
    cmd = [adapter_path(), *args]
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
    if check and p.returncode not in (0, 1):
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def run_json(*args, **kw):
    p = run_adapter(*args, "--format", "json", **kw)
    try:
        return json.loads(p.stdout), p
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON: {p.stdout!r}\nstderr: {p.stderr}")


def http_call(url, method=None, body=None, raw=None, headers=None, timeout=30):
    """(status, text) of one plain HTTP request: `body` sent as JSON, `raw` as
    is; an error status is returned, not raised. For the adapter's own HTTP
    endpoints (ops, serve), where the status is what a test checks."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(predicate, timeout=60, interval=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False


class InterceptingProxy:
    """A local HTTP proxy to the HAPI server. `intercept(method, path)` may
    answer a request itself with (status, body bytes, extra headers); else the
    request goes upstream, and links in the answer lead back through here.
    `seen` lists (method, path, Authorization header or None) of every request."""

    def __init__(self, upstream, intercept):
        proxy = self
        self.upstream = upstream
        self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, headers, data):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.seen.append((self.command, self.path, self.headers.get("Authorization")))
                own = intercept(self.command, self.path)
                if own is not None:
                    status, data, extra = own
                    headers = [("Content-Type", "application/fhir+json"), *extra.items()]
                    return self.reply(status, headers, data)
                base_path = urllib.parse.urlsplit(proxy.upstream).path
                url = proxy.upstream + self.path[len(base_path):]
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                req = urllib.request.Request(url, data=body, method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=120) as r:
                        status, rh, data = r.status, r.getheaders(), r.read()
                except urllib.error.HTTPError as e:
                    status, rh, data = e.code, e.headers.items(), e.read()
                data = data.replace(proxy.upstream.encode(), proxy.url.encode())
                self.reply(status, [(k, v.replace(proxy.upstream, proxy.url)) for k, v in rh
                                    if k.lower() not in ("transfer-encoding", "content-length",
                                                         "connection")], data)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        path = urllib.parse.urlsplit(upstream).path
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def establish_checkpoint(base, state):
    """A first `sync --once` on `state` (a file path or a postgresql:// URL)
    against `base` with every search answered empty: the checkpoint is set,
    so later runs scan for changes since it and see exactly their load. The
    CapabilityStatement stays the server's, so sync.changes=auto keeps the
    _lastUpdated feed. Returns the finished process."""
    empty = b'{"resourceType":"Bundle","type":"searchset","total":0}'
    nobody = InterceptingProxy(
        base, lambda method, path: None if "/metadata" in path else (200, empty, {}))
    try:
        return run_adapter("sync", "--once", "--server", nobody.url, "--state", state,
                           "--as-of", AS_OF, check=False, timeout=120)
    finally:
        nobody.close()


class FaultProxyProcess:
    """mst-fault-proxy (tests/tools/fault_proxy) in front of `upstream_base`,
    started with `args` (e.g. ["--rate", "0", "--refuse-bundles", "batch"]);
    `url` is the FHIR base through it. Needs MST_FAULT_PROXY."""

    def __init__(self, upstream_base, args, tmp, name="proxy"):
        parts = urllib.parse.urlsplit(upstream_base)
        port_file = os.path.join(tmp, f"{name}.port")
        self.proc = subprocess.Popen(
            [os.environ["MST_FAULT_PROXY"], "--upstream", f"{parts.scheme}://{parts.netloc}",
             "--listen", "127.0.0.1:0", "--port-file", port_file, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        end = time.time() + 30
        port = ""
        while not port:
            if self.proc.poll() is not None or time.time() > end:
                raise AssertionError(f"mst-fault-proxy did not start: {self.proc.stderr.read()}")
            time.sleep(0.05)
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
        self.origin = f"http://127.0.0.1:{port}"
        self.url = self.origin + parts.path

    def stats(self):
        with urllib.request.urlopen(self.origin + "/__proxy/stats", timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        """Stops it; returns its exit code and everything it printed."""
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out + err


def log_events(stderr):
    """The JSON log lines (--log-format json) of a run's stderr."""
    events = []
    for line in stderr.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return events
