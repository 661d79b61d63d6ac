"""The echo examples end to end, as subprocesses: the Python server with the
Python client, and with the C examples when they can be built."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from support import INSTALLED, PYTHON_DIR, REPO_DIR

SERVER = os.path.join(PYTHON_DIR, "echo_server.py")
CLIENT = os.path.join(PYTHON_DIR, "echo_client.py")
TIMEOUT = 30


class Server:
    """An echo server subprocess on 127.0.0.1:0; collects its output."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(
            argv + ["127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines = []
        self.address = None
        first = self.proc.stdout.readline()  # "listening on 127.0.0.1:port"
        self.lines.append(first)
        if first.startswith("listening on "):
            self.address = first.split()[-1]
        self.reader = threading.Thread(target=self._collect, daemon=True)
        self.reader.start()

    def _collect(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text, timeout=10):
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.01)
        return False

    def stop(self, sig=signal.SIGTERM):
        """Sends sig, returns the exit status and the whole output."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "killed after timeout"
        self.reader.join(5)
        self.proc.stdout.close()
        return rc, "".join(self.lines)


def run_client(argv, address, text):
    return subprocess.run(argv + [address], input=text, capture_output=True, text=True, timeout=TIMEOUT)


class EchoTest(unittest.TestCase):
    server_argv = [sys.executable, SERVER]
    client_argv = [sys.executable, CLIENT]

    def start(self):
        server = Server(self.server_argv)
        if server.address is None:
            rc, out = server.stop(signal.SIGKILL)
            self.fail("server did not start: %s" % out)
        self.addCleanup(lambda: server.proc.poll() is None and server.stop(signal.SIGKILL))
        return server

    def test_echo_and_sigterm(self):
        server = self.start()
        r = run_client(self.client_argv, server.address, "hello\r\nsecond line\n\nno newline at end")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "hello\nsecond line\n\nno newline at end\n")
        self.assertTrue(server.wait_for(" left"), server.lines)
        rc, out = server.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, out)
        for expected in ["GET MESSAGE: hello\n", "GET MESSAGE: second line\n", "GET MESSAGE: \n", "GET MESSAGE: no newline at end\n"]:
            self.assertIn(expected, out)
        self.assertRegex(out, r"client 127\.0\.0\.1:\d+ connected\n")
        self.assertRegex(out, r"client 127\.0\.0\.1:\d+ left\n")

    def test_sigint_with_client_connected(self):
        server = self.start()
        client = subprocess.Popen(
            self.client_argv + [server.address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            client.stdin.write("before\n")
            client.stdin.flush()
            self.assertEqual(client.stdout.readline(), "before\n")
            start = time.monotonic()
            rc, out = server.stop(signal.SIGINT)
            self.assertEqual(rc, 0, out)
            self.assertLess(time.monotonic() - start, 10)
            self.assertIn("GET MESSAGE: before", out)
            # The server went away: the client's next line fails.
            try:
                client.stdin.write("after\n")
                client.stdin.flush()
                client.stdin.close()
            except BrokenPipeError:
                pass
            crc = client.wait(timeout=TIMEOUT)
            err = client.stderr.read()
            self.assertNotEqual(crc, 0)
            self.assertIn("echo_client: ", err)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
            for f in (client.stdout, client.stderr):
                f.close()

    def test_client_unreachable(self):
        r = run_client(self.client_argv, "127.0.0.1:1", "x\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("echo_client: dial tcp 127.0.0.1:1: connect: connection refused", r.stderr)

    def test_server_bad_address(self):
        r = subprocess.run(self.server_argv + ["127.0.0.1"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("missing port in address", r.stderr)


class AsyncioEchoTest(EchoTest):
    """The same checks against the server's asyncio variant (gonet.aio)."""

    server_argv = [sys.executable, SERVER, "--asyncio"]


def build_c_examples():
    """Builds examples-c into a temporary directory against the library in
    GONET_LIBRARY; returns that directory, or a reason to skip."""
    if INSTALLED:
        return None, "C examples link against a built library, not an installed package"
    if not os.path.exists(os.path.join(REPO_DIR, "examples-c", "echo_server.c")):
        return None, "examples-c/echo_server.c does not exist yet"
    lib = os.environ.get("GONET_LIBRARY")
    if not lib:
        return None, "GONET_LIBRARY is not set"
    if not (shutil.which("make") and shutil.which(os.environ.get("CC", "cc"))):
        return None, "no make or C compiler"
    build = tempfile.mkdtemp(prefix="gonet-echo-c-")
    r = subprocess.run(
        ["make", "-C", os.path.join(REPO_DIR, "examples-c"), "LIBDIR=" + os.path.dirname(os.path.abspath(lib)), "BUILDDIR=" + build],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if r.returncode != 0:
        raise AssertionError("building examples-c failed:\n" + r.stdout + r.stderr)
    return build, None


class CInteropTest(unittest.TestCase):
    """The Python client against the C server, and the C client against the
    Python server."""

    @classmethod
    def setUpClass(cls):
        cls.build, reason = build_c_examples()
        if cls.build is None:
            raise unittest.SkipTest(reason)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.build, ignore_errors=True)

    def check(self, server_argv, client_argv):
        server = Server(server_argv)
        self.assertIsNotNone(server.address, server.lines)
        try:
            r = run_client(client_argv, server.address, "from one\r\nto the other\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "from one\nto the other\n")
            self.assertTrue(server.wait_for(" left"), server.lines)
        finally:
            rc, out = server.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, out)
        self.assertIn("GET MESSAGE: from one\n", out)
        self.assertIn("GET MESSAGE: to the other\n", out)

    def test_python_client_c_server(self):
        self.check([os.path.join(self.build, "echo_server")], [sys.executable, CLIENT])

    def test_c_client_python_server(self):
        self.check([sys.executable, SERVER], [os.path.join(self.build, "echo_client")])

    def test_c_client_asyncio_server(self):
        self.check([sys.executable, SERVER, "--asyncio"], [os.path.join(self.build, "echo_client")])


if __name__ == "__main__":
    unittest.main()


class SocketActivationTest(unittest.TestCase):
    """The Python echo server under systemd-socket-activate (Debian's
    systemd package): the activator listens and, on the first connection,
    starts the server with the listener as descriptor 3; the server adopts
    it with gonet.file_listener and echoes that connection and later
    ones."""

    def test_activated_listener(self):
        import socket

        tool = shutil.which("systemd-socket-activate")
        self.assertIsNotNone(tool, "systemd-socket-activate is needed (Debian's systemd package)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        address = "127.0.0.1:%d" % port
        # The activator passes on only the variables it is told to: the
        # server must load the library this test loads.
        passed = []
        for name in ("GONET_LIBRARY", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"):
            if name in os.environ:
                passed += ["-E", name]
        proc = subprocess.Popen(
            [tool, "-l", address] + passed + [sys.executable, SERVER, "127.0.0.1:1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            until = time.monotonic() + 10
            while True:
                try:
                    first = socket.create_connection(("127.0.0.1", port), timeout=10)
                    break
                except OSError:
                    if time.monotonic() > until:
                        raise
                    time.sleep(0.02)
            conns = [first] + [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
            for i, c in enumerate(conns):
                with c:
                    c.sendall(b"activated %d\n" % i)
                    self.assertEqual(c.makefile("rb").readline(), b"activated %d\n" % i)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, out)
        self.assertTrue(out.startswith("listening on %s\n" % address), out)
        self.assertIn("GET MESSAGE: activated 2", out)
