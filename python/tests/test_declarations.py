"""The binding declares every function of include/gonet.h, with matching
arguments, so that the header and the binding cannot drift apart."""

import ctypes
import os
import re
import unittest

from support import INSTALLED, REPO_DIR, gonet
from gonet import _ffi  # the declarations and hot-path arguments

HEADER = os.path.join(REPO_DIR, "include", "gonet.h")

# C types in the header -> ctypes types the binding may declare for them.
C_TYPES = {
    "int64_t": {ctypes.c_int64},
    "size_t": {ctypes.c_size_t},
    "int": {ctypes.c_int},
    "const char *": {ctypes.c_char_p},
    "char *": {ctypes.c_char_p, ctypes.c_void_p},
    "void *": {ctypes.c_void_p},
    "const void *": {ctypes.c_void_p},
    "const int *": {ctypes.c_void_p},
    "int *": {ctypes.c_void_p},
    "size_t *": {ctypes.c_void_p},
    "int64_t *": {ctypes.c_void_p},
    "const struct iovec *": {ctypes.c_void_p},
    "net_control_fn": {_ffi.CONTROL_FN},
    "net_fd_fn": {_ffi.FD_FN},
}


def normalise(ctype):
    ctype = re.sub(r"\s+", " ", ctype.strip())
    return re.sub(r"\s*\*\s*", " *", ctype)


def parse_header(text):
    """{name: (return type, [argument types])} for every function."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"^\s*#[^\n]*", "", text, flags=re.M)
    functions = {}
    for m in re.finditer(r"([A-Za-z_][\w \t*]*?)\b(\w+)\s*\(([^()]*)\)\s*;", text):
        ret, name, args = m.group(1), m.group(2), m.group(3).strip()
        argtypes = []
        if args and args != "void":
            for arg in args.split(","):
                # Drop the parameter's name: the last identifier.
                argtypes.append(normalise(re.sub(r"\b\w+\s*$", "", arg.strip())))
        functions[name] = (normalise(ret), argtypes)
    return functions


class DeclarationsTest(unittest.TestCase):
    def setUp(self):
        with open(HEADER) as f:
            self.header = parse_header(f.read())

    def test_parser_sees_the_header(self):
        self.assertIn("net_read", self.header)
        self.assertEqual(self.header["net_read"], ("int64_t", ["int64_t", "void *", "size_t"]))
        self.assertEqual(self.header["net_version"], ("const char *", []))
        self.assertGreaterEqual(len(self.header), 19)

    def test_every_header_function_is_declared(self):
        missing = sorted(set(self.header) - set(gonet.FUNCTIONS))
        self.assertEqual(missing, [], "add these to gonet.FUNCTIONS")
        # The binding may be ahead of an older header only when the loaded
        # library lacks those functions too.
        extra = sorted(set(gonet.FUNCTIONS) - set(self.header) - set(gonet.MISSING))
        self.assertEqual(extra, [], "declared in the binding and exported, but not in the header")

    def test_declarations_match(self):
        for name, (ret, args) in sorted(self.header.items()):
            with self.subTest(function=name):
                restype, argtypes = gonet.FUNCTIONS[name]
                self.assertEqual(len(argtypes), len(args), "argument count of %s" % name)
                self.assertIn(restype, C_TYPES[ret], "return type of %s" % name)
                for i, (c, py) in enumerate(zip(args, argtypes)):
                    self.assertIn(py, C_TYPES[c], "argument %d (%s) of %s" % (i, c, name))
                # The loaded function carries the declaration.
                fn = getattr(_ffi._c, name)
                self.assertIs(fn.restype, restype)
                self.assertEqual(list(fn.argtypes), list(argtypes))

    def test_hot_paths_pass_the_declared_types(self):
        # Conn.read/readinto/write call net_read/net_write without argtypes,
        # so ctypes checks nothing there: every argument must already be a
        # C parameter of the declared type (its repr shows the type code).
        raw = {
            "net_read": _ffi._raw_read,
            "net_write": _ffi._raw_write,
            "net_read_from": _ffi._raw_read_from,
            "net_write_to": _ffi._raw_write_to,
            # gonet.aio's non-blocking twins, called the same way.
            "net_try_read": _ffi._raw_try_read,
            "net_try_write": _ffi._raw_try_write,
            "net_try_read_from": _ffi._raw_try_read_from,
            "net_try_write_to": _ffi._raw_try_write_to,
        }
        for name, fn in raw.items():
            with self.subTest(function=name):
                restype, argtypes = gonet.FUNCTIONS[name]
                self.assertIsNone(fn.argtypes)
                self.assertIs(fn.restype, restype)
                # handle, buffer, length, then the sender buffer and its
                # length (read_from) or the address string (write_to).
                self.assertEqual(argtypes[:3], (ctypes.c_int64, ctypes.c_void_p, ctypes.c_size_t))
        self.assertEqual(gonet.FUNCTIONS["net_read_from"][1][3:], (ctypes.c_void_p, ctypes.c_size_t))
        self.assertEqual(gonet.FUNCTIONS["net_write_to"][1][3:], (ctypes.c_char_p,))
        self.assertEqual(gonet.FUNCTIONS["net_try_read_from"][1], gonet.FUNCTIONS["net_read_from"][1])
        self.assertEqual(gonet.FUNCTIONS["net_try_write_to"][1], gonet.FUNCTIONS["net_write_to"][1])
        self.assertEqual(repr(_ffi._ADDR_LEN), "<cparam '%s' (%d)>" % (ctypes.c_size_t._type_, gonet.NET_ADDR_MAX))
        big = 2**40 + 7  # a handle past 32 bits keeps every bit
        self.assertEqual(repr(_ffi._handle_arg(big)), "<cparam '%s' (%d)>" % (ctypes.c_int64._type_, big))
        for n in (0, 64, 2**31, 2**40):
            self.assertEqual(repr(_ffi._len(n)), "<cparam '%s' (%d)>" % (ctypes.c_size_t._type_, n))
        self.assertTrue(repr(ctypes.byref(ctypes.create_string_buffer(1))).startswith("<cparam 'P'"))
        with gonet.listen("tcp", "127.0.0.1:0") as ln, gonet.dial("tcp", ln.local_addr) as c, ln.accept() as s:
            self.assertEqual(repr(c._ah), "<cparam '%s' (%d)>" % (ctypes.c_int64._type_, c.handle))
            # Lengths of every size class the cache holds or makes on the spot.
            for size in (1, 64, 1000, 70000):
                data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
                self.assertEqual(c.write(data), size)
                got = b""
                while len(got) < size:
                    got += s.read(size - len(got))
                self.assertEqual(got, data)

    def test_codes_match(self):
        with open(HEADER) as f:
            header = f.read()
        codes = dict(re.findall(r"#define (NET_E\w+) \((-\d+)\)", header))
        self.assertGreaterEqual(len(codes), 13)
        for name, value in codes.items():
            with self.subTest(code=name):
                self.assertEqual(getattr(gonet, name), int(value))
        # The special values of every *_ms argument, as the binding uses them.
        for name in ("NET_FOREVER", "NET_DEFAULT"):
            value = re.search(r"#define %s \((-\d+)\)" % name, header)
            self.assertIsNotNone(value, name)
            self.assertEqual(getattr(_ffi, name), int(value.group(1)))


class LoadingTest(unittest.TestCase):
    def test_loaded_from_gonet_library_or_the_package(self):
        path = os.environ.get("GONET_LIBRARY")
        if path:
            self.assertEqual(_ffi._lib._name, path)
        elif INSTALLED:
            # An installed package carries its own library.
            here = os.path.dirname(os.path.abspath(gonet.__file__))
            self.assertEqual(_ffi._lib._name, os.path.join(here, "libgonet.so"))
        else:
            self.skipTest("neither GONET_LIBRARY nor GONET_TEST_INSTALLED is set")

    def test_version(self):
        self.assertEqual(gonet.__version__, gonet.version())
        self.assertRegex(gonet.__version__, r"^\d+\.\d+\.\d+")
        if INSTALLED:
            from importlib.metadata import version

            self.assertEqual(version("gonet"), gonet.__version__)

    def test_bad_gonet_library_is_an_import_error(self):
        import subprocess
        import sys

        env = dict(os.environ, GONET_LIBRARY="/nonexistent/libgonet.so")
        code = "import sys; sys.path.insert(0, %r); import gonet" % os.path.dirname(os.path.dirname(gonet.__file__))
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("/nonexistent/libgonet.so", r.stderr)


if __name__ == "__main__":
    unittest.main()
