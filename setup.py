"""Build of the Python package; the metadata is in pyproject.toml.

setuptools-rust builds the cdylib with `cargo rustc --release` (no Python
binding: the package loads it with ctypes) and puts it into the package as
gonet/libgonet.so, where gonet/_ffi.py looks first. The version is the
crate's, so that the distribution, `gonet.__version__` and the library's
net_version() agree.
"""

import os
import re

from setuptools import setup
from setuptools_rust import Binding, RustExtension

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools older than 70.1
    from wheel.bdist_wheel import bdist_wheel

from setuptools_rust.build import build_rust

HERE = os.path.dirname(os.path.abspath(__file__))


def crate_version():
    with open(os.path.join(HERE, "Cargo.toml"), encoding="utf-8") as f:
        m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)
    if not m:
        raise RuntimeError("no version in Cargo.toml")
    return m.group(1)


class build_rust_plain_name(build_rust):
    """Installs the library as gonet/libgonet.so rather than with the
    interpreter's extension suffix (libgonet.cpython-311-...so): it is not
    an extension module, and the same file serves every Python 3."""

    def get_dylib_ext_path(self, ext, target_fname):
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), "libgonet.so")


class bdist_wheel_any_python(bdist_wheel):
    """Tags the wheel py3-none-<platform>: it holds a platform's shared
    library but nothing tied to one Python's ABI."""

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(
    version=crate_version(),
    rust_extensions=[
        RustExtension(
            "gonet.libgonet",
            path="Cargo.toml",
            binding=Binding.NoBinding,
            # The library is built for this platform only; no debug info in
            # the wheel.
            debug=False,
        )
    ],
    cmdclass={"build_rust": build_rust_plain_name, "bdist_wheel": bdist_wheel_any_python},
    zip_safe=False,
)
