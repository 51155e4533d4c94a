"""Load the donthu.v1 Python classes for the examples.

The _pb2 modules are generated from proto/donthu/v1/*.proto, never checked
in: if DONTHU_PB2_DIR names a directory holding them (protoc --python_out),
that one is used; otherwise they are generated with protoc into a temporary
directory that is removed when the program exits.

Needs Debian's python3-protobuf and protobuf-compiler; run the examples with
/usr/bin/python3 (a pyenv or venv python does not see Debian's modules).
"""
import atexit
import glob
import os
import shutil
import subprocess
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(os.path.dirname(_HERE), "proto")


def _generate():
    out = tempfile.mkdtemp(prefix="donthu-pb2.")
    atexit.register(shutil.rmtree, out, True)
    files = sorted(glob.glob(os.path.join(PROTO_ROOT, "donthu", "v1", "*.proto")))
    if not files:
        sys.exit("no .proto files under %s" % PROTO_ROOT)
    try:
        subprocess.run(["protoc", "--python_out=" + out, "-I", PROTO_ROOT] + files, check=True)
    except FileNotFoundError:
        sys.exit("protoc not found: apt-get install protobuf-compiler "
                 "(or set DONTHU_PB2_DIR to generated _pb2 modules)")
    return out


def load():
    """Return (envelope_pb2, types_pb2, intake_pb2, events_pb2)."""
    where = os.environ.get("DONTHU_PB2_DIR") or _generate()
    if where not in sys.path:
        sys.path.insert(0, where)
    from donthu.v1 import envelope_pb2, events_pb2, intake_pb2, types_pb2
    return envelope_pb2, types_pb2, intake_pb2, events_pb2


def read_key(path):
    """A Z85 CURVE key file as scripts/gen-keys writes it (40 characters)."""
    with open(path, "rb") as f:
        key = f.read().strip()
    if len(key) != 40:
        sys.exit("%s: not a Z85 CURVE key (40 characters)" % path)
    return key


def set_curve(sock, server_public_file, public_file, secret_file):
    """Make sock a CURVE client of the server whose public key is in
    server_public_file, with our own key pair; our public key must be in the
    server's allowlist (curve_allow_file) or the handshake is refused."""
    if not server_public_file:
        return
    if not (public_file and secret_file):
        sys.exit("--server-key needs --public-key and --secret-key too")
    sock.curve_serverkey = read_key(server_public_file)
    sock.curve_publickey = read_key(public_file)
    sock.curve_secretkey = read_key(secret_file)
