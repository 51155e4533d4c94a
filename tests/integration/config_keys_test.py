#!/usr/bin/python3
"""config_keys_test: the configuration keys the services read, the keys
docs/OPERATIONS.md documents, and the keys the shipped configuration files
set (deploy/<svc>.conf, and what scripts/donthuctl writes) stay in step.

For each services/<svc>/main.c: every key it reads (cm_config_*(cfg, "key"),
plus keys it builds from "%s_..." patterns) must be in the OPERATIONS.md
table of that service with its DONTHU_<SVC>_<KEY> name; every key that table
or those files name must be one the service reads (a misspelt key would be
silently ignored by the service). Needs no build and no network.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVICES = ["intake", "routing", "deadline", "report"]
COMMON_SECTION = "Keys every service has"


def service_keys(svc):
    with open(os.path.join(ROOT, "services", svc, "main.c")) as f:
        src = f.read()
    literal = set(re.findall(r'cm_config_[a-z0-9_]+\(\s*cfg\s*,\s*"([a-z0-9_.]+)"', src))
    # Keys the service assembles, e.g. snprintf(key, ..., "%s_feed", producer).
    patterns = [re.compile("^" + p.replace("%s", "[a-z]+") + "$")
                for p in re.findall(r'"(%s_[a-z0-9_]+)"', src)]
    # Helpers that take the key as an argument (opt_str(cfg, "key")).
    literal |= set(re.findall(r'\b[a-z_]+\(\s*cfg\s*,\s*"([a-z0-9_.]+)"', src))
    # Keys every service reads through libcommon (common/admin.h).
    if "cm_admin_clock_config_or_die(cfg)" in src:
        literal |= {"clock", "clock_start"}
    return literal, patterns


def doc_sections():
    with open(os.path.join(ROOT, "docs", "OPERATIONS.md")) as f:
        text = f.read()
    out = {}
    for svc in SERVICES:
        m = re.search(r"^### 4\.\d+ %s \(`DONTHU_%s_`\)\n(.*?)(?=^#{2,3} )" % (svc, svc.upper()),
                      text, re.S | re.M)
        out[svc] = m.group(1) if m else None
    return out


def doc_rows(section):
    """(keys in the first cell, env cell) per table row."""
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        keys = re.findall(r"`([a-z0-9_.]+)`", cells[0])
        rows.append((keys, cells[2] if len(cells) > 2 else ""))
    return rows


def conf_keys(path):
    keys = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keys.append((n, line.split("=", 1)[0].strip()))
    return keys


def main():
    errors = []
    sections = doc_sections()
    generated = tempfile.mkdtemp(prefix="donthu-keys.")
    ctl = subprocess.run([os.path.join(ROOT, "scripts", "donthuctl"), "--base", generated,
                          "--bin", generated, "--curve", "init"],
                         capture_output=True, text=True)
    if ctl.returncode != 0:
        print("donthuctl init failed (skipping its files): %s" % ctl.stderr.strip())
    for svc in SERVICES:
        main_c = os.path.join(ROOT, "services", svc, "main.c")
        if not os.path.exists(main_c):
            print("skip %s: no main.c yet" % svc)
            continue
        before = len(errors)
        literal, patterns = service_keys(svc)
        known = lambda k: k in literal or any(p.match(k) for p in patterns)
        section = sections[svc]
        if section is None:
            errors.append("OPERATIONS.md has no section '### 4.x %s (`DONTHU_%s_`)'"
                          % (svc, svc.upper()))
            continue
        documented = set()
        for keys, env in doc_rows(section):
            documented.update(keys)
            for k in keys:
                if not known(k):
                    errors.append("%s: OPERATIONS.md documents `%s`, which main.c does not read"
                                  % (svc, k))
            if len(keys) == 1 and "DONTHU_" in env:
                want = "DONTHU_%s_%s" % (svc.upper(), keys[0].upper().replace(".", "_"))
                if want not in env:
                    errors.append("%s: `%s` documented with environment %s, want %s"
                                  % (svc, keys[0], env, want))
        for k in sorted(literal):
            if k not in documented:
                errors.append("%s: main.c reads `%s`, not in OPERATIONS.md §4 for %s"
                              % (svc, k, svc))
        files = [os.path.join(ROOT, "deploy", svc + ".conf"),
                 os.path.join(generated, "etc", svc + ".conf")]
        for path in files:
            if not os.path.exists(path):
                continue
            for n, k in conf_keys(path):
                if not known(k):
                    errors.append("%s:%d: `%s` is not a key donthu-%s reads"
                                  % (os.path.relpath(path, ROOT) if path.startswith(ROOT)
                                     else "donthuctl " + svc + ".conf", n, k, svc))
        print("%s: %d keys read, %s" % (svc, len(literal), "all documented and every configured "
              "key known" if len(errors) == before else "%d problems" % (len(errors) - before)))
    subprocess.run(["rm", "-rf", generated])
    for e in errors:
        print("ERROR " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
