"""Builds a bridge library with adcc's own driver, cached by content under the user cache dir.

The key hashes the preprocessed wrappers unit (kernel source, its headers and -D flags
included), the flags, the language, the adcc package itself and the front end's identity.
A build happens in a private temp directory renamed into place; when two processes race,
the loser discards its copy and uses the winner's. A finished directory is never modified.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

from adcc.bridge import codegen
from adcc.diagnostics import CompileError, SourceLocation
from adcc.driver import toolchain

LIB_NAME = "libadcc_bridge.so"
EXTENSIONS = {"c": ".c", "c++": ".cpp", "fortran": ".f90"}
_DRIVER = "import sys; from adcc.driver.main import main; sys.exit(main(sys.argv[1], sys.argv[2:]))"
_LOCATED = re.compile(r"^(.+?):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)$", re.M)
_fingerprint: str | None = None


def build(kernel_path: str, signatures, flags: list[str], lang: str) -> str:
    """Path of the shared library for `kernel_path` (an existing file) and `signatures`."""
    with tempfile.TemporaryDirectory(prefix="adcc-bridge-") as scratch:
        wrappers = _write_wrappers(scratch, kernel_path, signatures, lang)
        key = _cache_key(wrappers, kernel_path, flags, lang)
        final = os.path.join(toolchain.cache_dir(), "bridge", key)
        lib = os.path.join(final, LIB_NAME)
        if os.path.exists(lib):
            return lib
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".build-", dir=os.path.dirname(final))
        try:
            _compile(wrappers, kernel_path, flags, lang, os.path.join(tmp, LIB_NAME))
            shutil.copy(wrappers, tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                if not os.path.exists(lib):
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return lib


def _write_wrappers(directory: str, kernel_path: str, signatures, lang: str) -> str:
    included = None if lang == "fortran" else os.path.abspath(kernel_path)
    path = os.path.join(directory, "adcc_wrappers" + (".cpp" if lang == "c++" else ".c"))
    with open(path, "w") as f:
        f.write(codegen.wrappers_source(signatures, lang, included))
    return path


def _front_end_text(wrappers: str, flags: list[str], lang: str) -> bytes:
    """The wrappers unit preprocessed (so that headers and macros are part of the key)."""
    compiler = toolchain.clangxx() if lang == "c++" else toolchain.clang()
    proc = subprocess.run([compiler, "-E", "-P", *_front_end_flags(flags), wrappers],
                          capture_output=True)
    if proc.returncode != 0:
        raise compile_error(proc.stderr.decode(errors="replace"))
    return proc.stdout


def _front_end_flags(flags: list[str]) -> list[str]:
    keep = ("-D", "-U", "-I", "-include", "-std=", "-isystem", "-iquote")
    out, take_next = [], False
    for flag in flags:
        if take_next:
            out.append(flag)
            take_next = False
        elif flag.startswith(keep):
            out.append(flag)
            take_next = flag in ("-D", "-U", "-I", "-include", "-isystem", "-iquote")
    return out


def _cache_key(wrappers: str, kernel_path: str, flags: list[str], lang: str) -> str:
    h = hashlib.sha256()
    for part in (lang, "\0".join(flags), adcc_fingerprint(), toolchain.tool_identity(toolchain.clang())):
        h.update(part.encode() + b"\0")
    if lang == "fortran":
        for path in (wrappers, kernel_path):
            with open(path, "rb") as f:
                h.update(f.read() + b"\0")
    else:
        h.update(_front_end_text(wrappers, flags, lang))
    return h.hexdigest()[:24]


def adcc_fingerprint() -> str:
    """Identity of this adcc (every file of the package and of the runtime sources): a cached
    library is rebuilt whenever the compiler changes."""
    global _fingerprint
    if _fingerprint is None:
        from adcc.driver.runtime import source_dir
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        h = hashlib.sha256()
        for root in (package, source_dir()):
            for directory, subdirs, files in os.walk(root):
                subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
                for name in sorted(files):
                    if name.endswith((".py", ".c", ".h")):
                        st = os.stat(os.path.join(directory, name))
                        h.update(f"{directory}/{name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
        _fingerprint = h.hexdigest()
    return _fingerprint


def _compile(wrappers: str, kernel_path: str, flags: list[str], lang: str, out: str) -> None:
    mode = {"c": "c", "c++": "c++", "fortran": "fortran"}[lang]
    inputs = [wrappers] + ([kernel_path] if lang == "fortran" else [])
    argv = [sys.executable, "-c", _DRIVER, mode, *flags, "-shared", "-fPIC", *inputs, "-o", out,
            "-Wl,--exclude-libs,ALL", "-lm"]
    proc = subprocess.run(argv, capture_output=True)
    if proc.returncode != 0:
        raise compile_error(proc.stderr.decode(errors="replace") or proc.stdout.decode(errors="replace"))


def compile_error(output: str) -> CompileError:
    """A CompileError whose message is the compiler's own output (file:line:col: error: ...),
    located at its first error."""
    m = _LOCATED.search(output)
    location = SourceLocation(m.group(1), int(m.group(2)), int(m.group(3) or 0)) if m else None
    error = CompileError("building the bridge library failed:\n" + output.rstrip(), location)
    error.output = output
    return error
