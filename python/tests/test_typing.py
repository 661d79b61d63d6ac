"""The package's type hints: mypy --strict passes on the package and on
api_typed.py, which uses every public name, and that file runs."""

import os
import subprocess
import sys
import unittest

from support import INSTALLED, PYTHON_DIR, gonet

import api_typed  # noqa: E402 (after support, which finds gonet)

HERE = os.path.dirname(os.path.abspath(__file__))


def base_python():
    """The interpreter mypy runs under: this one, or inside a venv the one
    it was made from (the venv of the wheel test has only gonet)."""
    if sys.prefix == sys.base_prefix:
        return sys.executable
    for name in ("python3", "python"):
        path = os.path.join(sys.base_prefix, "bin", name)
        if os.path.exists(path):
            return path
    return sys.executable


class TypingTest(unittest.TestCase):
    def test_every_public_name_is_used(self):
        self.assertEqual(sorted(set(gonet.__all__) - api_typed.USED), [])
        from gonet import aio

        self.assertEqual(sorted(set(aio.__all__) - api_typed.AIO_USED), [])

    def test_api_runs(self):
        api_typed.main()

    def test_mypy_strict(self):
        python = base_python()
        probe = subprocess.run([python, "-c", "import mypy"], capture_output=True, timeout=60)
        if probe.returncode != 0:
            self.skipTest("mypy is not installed (.ci/run installs it)")
        argv = [python, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", os.devnull]
        env = dict(os.environ)
        if INSTALLED:
            # The installed package, which mypy uses through its py.typed
            # (without one: "missing library stubs or py.typed marker").
            argv += ["--python-executable", sys.executable]
        else:
            argv.append(os.path.join(PYTHON_DIR, "gonet"))
        argv.append(os.path.join(HERE, "api_typed.py"))
        env.pop("MYPYPATH", None)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, cwd=HERE)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Success: no issues found", r.stdout)


if __name__ == "__main__":
    unittest.main()
