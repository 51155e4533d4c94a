#!/usr/bin/python3
"""compose_lint: docker-compose.yml (and the compose test's override) never
make docker create a bridge network.

Every service must set network_mode to host or none (a service without it
makes docker-compose 1.29 create a <project>_default bridge), no service
may join networks or publish ports, no top-level networks may be declared,
and every build must use network: host (the classic builder has only lo on a
daemon started with --bridge=none). Named volumes for every store and
read-only config/keys are checked too.

With docker-compose installed the files are first validated with
`docker-compose config -q` and the merged, normalised output is checked;
without it the YAML is read directly (python3-yaml). Neither needs a
daemon. Exits 77 (ctest: skipped) when neither is available.
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SETS = [["docker-compose.yml"], ["docker-compose.yml", "deploy/compose-test.yml"]]
STORES = {"intake", "routing", "deadline", "report"}


def load(files):
    try:
        import yaml
    except ImportError:
        return None, "python3-yaml missing"
    compose = shutil.which("docker-compose")
    if compose:
        args = [compose, "--project-directory", ROOT]
        for f in files:
            args += ["-f", os.path.join(ROOT, f)]
        env = dict(os.environ, DONTHU_TEST_ADMIN="/tmp/admin", DONTHU_KEYS="/tmp/keys")
        q = subprocess.run(args + ["config", "-q"], env=env, capture_output=True, text=True)
        if q.returncode != 0:
            print("docker-compose config -q failed for %s:\n%s" % (" + ".join(files), q.stderr))
            sys.exit(1)
        out = subprocess.run(args + ["config"], env=env, capture_output=True, text=True,
                             check=True).stdout
        return yaml.safe_load(out), "docker-compose config"
    if len(files) > 1:
        return None, "no docker-compose to merge override files"
    with open(os.path.join(ROOT, files[0])) as f:
        return yaml.safe_load(f), "the YAML as written"


def check(doc, files):
    errors = []
    if doc.get("networks"):
        errors.append("top-level networks: declared (would create a bridge)")
    services = doc.get("services") or {}
    if not services:
        errors.append("no services")
    for name, svc in sorted(services.items()):
        mode = svc.get("network_mode")
        if mode not in ("host", "none"):
            errors.append("%s: network_mode is %r, must be host or none" % (name, mode))
        if svc.get("networks"):
            errors.append("%s: joins networks %s" % (name, svc["networks"]))
        if svc.get("ports"):
            errors.append("%s: publishes ports (meaningless with network_mode host)" % name)
        build = svc.get("build")
        if build is not None:
            net = build.get("network") if isinstance(build, dict) else None
            if net != "host":
                errors.append("%s: build without network: host" % name)
        if name in STORES:
            vols = svc.get("volumes") or []
            text = [v if isinstance(v, str) else "%s:%s" % (v.get("source"), v.get("target"))
                    for v in vols]
            if not any(t.startswith(name + "-data:") or ("_%s-data:" % name) in t or
                       (isinstance(v, dict) and v.get("type") == "volume" and
                        str(v.get("source", "")).endswith(name + "-data"))
                       for t, v in zip(text, vols)):
                errors.append("%s: no named volume %s-data for its store" % (name, name))
            for t, v in zip(text, vols):
                target = v.get("target") if isinstance(v, dict) else t.split(":")[1]
                ro = v.get("read_only") if isinstance(v, dict) else t.endswith(":ro")
                if target.startswith("/etc/donthu") and not ro:
                    errors.append("%s: %s is not mounted read-only" % (name, target))
            if not svc.get("healthcheck"):
                errors.append("%s: no healthcheck" % name)
    return errors, len(services)


def main():
    status = 0
    checked = 0
    # The lint must not be vacuous: a service without network_mode fails.
    bad, _ = check({"services": {"x": {"image": "i"}}}, ["self-test"])
    if not any("network_mode" in e for e in bad):
        print("self-test: a service without network_mode was not caught")
        return 1
    for files in SETS:
        doc, how = load(files)
        if doc is None:
            print("skipped %s: %s" % (" + ".join(files), how))
            continue
        errors, n = check(doc, files)
        checked += 1
        for e in errors:
            print("%s: %s" % (" + ".join(files), e))
        if errors:
            status = 1
        else:
            print("ok %s (%s): %d services, all network_mode host/none" % (" + ".join(files),
                                                                           how, n))
    if checked == 0:
        return 77
    return status


if __name__ == "__main__":
    sys.exit(main())
