"""Shared by the tests: puts the package on sys.path, and small helpers.

With GONET_TEST_INSTALLED=1 the tests run against the gonet that Python
imports on its own (an installed wheel), and check that it is not a copy
from the source tree."""

import os
import sys

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(PYTHON_DIR)
INSTALLED = os.environ.get("GONET_TEST_INSTALLED") == "1"
if not INSTALLED and PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import gonet  # noqa: E402

if INSTALLED and os.path.dirname(os.path.abspath(gonet.__file__)).startswith(PYTHON_DIR):
    raise ImportError("GONET_TEST_INSTALLED=1 but gonet came from the source tree: %s" % gonet.__file__)


def pair():
    """(listener, client, server side) over TCP loopback, port 0."""
    ln = gonet.listen("tcp", "127.0.0.1:0")
    c = gonet.dial("tcp", ln.local_addr, timeout=5)
    s = ln.accept()
    # No test waits forever on a read or write.
    c.set_deadline(10)
    s.set_deadline(10)
    return ln, c, s


def read_exact(conn, n):
    out = b""
    while len(out) < n:
        chunk = conn.read(n - len(out))
        if not chunk:
            raise EOFError("end of stream after %d of %d bytes" % (len(out), n))
        out += chunk
    return out
