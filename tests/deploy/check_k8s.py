#!/usr/bin/env python3
"""Checks deploy/k8s against the adapter it deploys (scripts/check-k8s).

    check_k8s.py MST_ADAPTER DEPLOY_DIR

The Kubernetes schemas say a manifest is well-formed; this says it would run:
the ConfigMap's configuration file is accepted by the adapter (an unknown key
or a bad value stops it at start), every container runs an adapter command
with options that command has, the configuration file is mounted where the
arguments say, every file the configuration names lies on a mounted volume,
every volume and secret the containers use is declared, the probes ask
/healthz or /readyz on a port the process listens on, and kustomization.yaml
lists files that exist. Needs PyYAML (the validator's virtualenv has it).
"""

import json
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/fixtures/patients/mst-p01.json"
PROBE_PATHS = {"/healthz", "/readyz"}

failures = []


def fail(where, message):
    failures.append(f"{where}: {message}")


def load_documents(deploy_dir):
    docs = []
    for path in sorted(deploy_dir.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def pod_spec(doc):
    """The pod template's spec of a workload, or None."""
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    if doc["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob"):
        return spec["template"]["spec"]
    return None


def adapter_help(adapter, command, cache={}):  # noqa: B006 (a cache on purpose)
    if command not in cache:
        run = subprocess.run([adapter, command, "--help"], capture_output=True, text=True)
        cache[command] = run.stdout if run.returncode == 0 else None
    return cache[command]


def flat_keys(value, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}; comment keys ('_...') left out."""
    out = {}
    for key, item in value.items():
        if key.startswith("_"):
            continue
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            out.update(flat_keys(item, name + "."))
        else:
            out[name] = item
    return out


def parse_config(where, text):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        fail(where, f"adapter.json is not JSON: {e}")
        return None


def check_config(adapter, where, config, env):
    """Loads the configuration (file and MST_* environment) through the
    adapter itself: an offline `explain` of a fixture reads and checks every
    key and stops with exit 2 on one it does not accept."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(config, f)
        f.flush()
        run = subprocess.run([adapter, "explain", "--config", f.name, "--input", str(FIXTURE)],
                             capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", **env})
    if run.returncode != 0:
        fail(where, f"the adapter refuses its configuration (exit {run.returncode}): "
                    f"{run.stderr.strip()}")


def documented_env_names():
    """MST_* names of the configuration keys (docs/configuration.md's table)."""
    text = (ROOT / "docs/configuration.md").read_text()
    return set(re.findall(r"^\| `[a-z0-9_.]+` \| `(MST_[A-Z0-9_]+)`", text, re.M))


def port_of(listen):
    match = re.fullmatch(r".*:(\d+)", listen or "")
    return int(match.group(1)) if match else None


def check_env(adapter, where, container, raw_config, config):
    """Every MST_* variable is a configuration key's or one a `*_env` key
    names (a secret's); the keys' values pass the adapter's checks."""
    secret_names = {v for k, v in config.items() if k.endswith("_env") and v}
    plain = {}
    for env in container.get("env", []):
        name = env["name"]
        if not name.startswith("MST_"):
            continue
        if name in secret_names:
            continue
        if name not in documented_env_names():
            fail(where, f"env {name} is no configuration key (docs/configuration.md) "
                        "and no *_env key names it")
        elif "value" in env:
            plain[name] = env["value"]
        elif "secretKeyRef" in env.get("valueFrom", {}):
            fail(where, f"env {name} is a configuration key taken from a Secret: "
                        "configuration values are not secrets; name the secret's variable "
                        "with a *_env key instead")
    if raw_config is not None:
        check_config(adapter, where, raw_config, plain)


def check_container(adapter, where, container, volumes, mounts_by_path, config, declared):
    args = container.get("args") or []
    if not args:
        fail(where, "no args: the image's default command is a local-compose one")
        return
    command = args[0]
    help_text = adapter_help(adapter, command)
    if help_text is None:
        fail(where, f"'{command}' is not an mst-adapter command")
        return
    for arg in args[1:]:
        if arg.startswith("--") and not re.search(rf"(^|\s){re.escape(arg)}\b", help_text):
            fail(where, f"`{command}` has no option {arg}")
    if "--config" not in args:
        fail(where, "no --config: the ConfigMap is not read")
    elif args[args.index("--config") + 1] not in mounts_by_path:
        fail(where, f"--config {args[args.index('--config') + 1]} is not a mounted file")

    if "--state" in args:
        state = args[args.index("--state") + 1]
        if not any(state.startswith(path.rstrip("/") + "/") and not m.get("readOnly")
                   for path, m in mounts_by_path.items()):
            fail(where, f"--state {state} is on no writable volume (the root is read-only)")
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in volumes:
            fail(where, f"mounts undeclared volume {mount['name']}")
    for name, volume in volumes.items():
        if "secret" in volume and volume["secret"]["secretName"] not in declared["Secret"]:
            fail(where, f"volume {name}: Secret {volume['secret']['secretName']} is declared "
                        "nowhere (secret.example.yaml lists the ones to create)")
        if "configMap" in volume and volume["configMap"]["name"] not in declared["ConfigMap"]:
            fail(where, f"volume {name}: ConfigMap {volume['configMap']['name']} not declared")
    for env in container.get("env", []):
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref and ref["name"] not in declared["Secret"]:
            fail(where, f"env {env['name']}: Secret {ref['name']} declared nowhere")

    for key, value in config.items():
        if key.endswith("_file") and value and \
                not any(value.startswith(path.rstrip("/") + "/") or value == path
                        for path in mounts_by_path):
            fail(where, f"{key} {value} is on no mounted volume")

    # The port the process listens on: serve's --listen, else service.listen.
    listen = args[args.index("--listen") + 1] if "--listen" in args else config.get(
        "service.listen", "")
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if not probe:
            continue
        http = probe.get("httpGet", {})
        if http.get("path") not in PROBE_PATHS:
            fail(where, f"{probe_name} asks {http.get('path')}, not /healthz or /readyz")
        port = ports.get(http.get("port"), http.get("port"))
        if port != port_of(listen):
            fail(where, f"{probe_name} probes port {port}, the process listens on "
                        f"'{listen or 'nothing (service.listen empty)'}'")


def main():
    adapter, deploy_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    docs = load_documents(deploy_dir)
    declared = {"Secret": set(), "ConfigMap": set()}
    for _, doc in docs:
        if doc.get("kind") in declared:
            declared[doc["kind"]].add(doc["metadata"]["name"])

    configs = {}  # ConfigMap name -> the parsed adapter.json
    for name, doc in docs:
        if doc.get("kind") == "ConfigMap" and "adapter.json" in doc.get("data", {}):
            configs[doc["metadata"]["name"]] = parse_config(name, doc["data"]["adapter.json"])
    if not configs:
        fail(str(deploy_dir), "no ConfigMap holds an adapter.json")

    workloads = 0
    for name, doc in docs:
        spec = pod_spec(doc)
        if spec is None:
            continue
        workloads += 1
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            where = f"{name} {doc['kind']}/{doc['metadata']['name']} container {container['name']}"
            mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
            raw_config = None
            for mount in mounts.values():
                cm = volumes.get(mount["name"], {}).get("configMap", {}).get("name")
                if cm in configs:
                    raw_config = configs[cm]
            config = flat_keys(raw_config or {})
            check_env(adapter, where, container, raw_config, config)
            check_container(adapter, where, container, volumes, mounts, config, declared)
    if workloads == 0:
        fail(str(deploy_dir), "no workload")

    kustomization = yaml.safe_load((deploy_dir / "kustomization.yaml").read_text())
    for resource in kustomization.get("resources", []):
        if not (deploy_dir / resource).is_file():
            fail("kustomization.yaml", f"lists {resource}, which does not exist")
        elif "example" in resource:
            fail("kustomization.yaml", f"applies {resource}: placeholder secrets")

    for line in failures:
        print(f"check_k8s: {line}", file=sys.stderr)
    if failures:
        return 1
    print(f"check_k8s: {workloads} workloads agree with {adapter}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
