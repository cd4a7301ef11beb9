"""adcc.compile: C, C++ and Fortran kernels as differentiable functions for NumPy, JAX,
PyTorch and TensorFlow (the framework glue lives in adcc.jax, adcc.torch, adcc.tensorflow).

The library is built by adcc's own driver (bridge/build.py) from the kernel source plus
generated wrappers (bridge/codegen.py); signatures come from Python or from adcc.toml /
[tool.adcc] (bridge/config.py).
"""
from __future__ import annotations

import hashlib
import os

from adcc.bridge import config as config_files
from adcc.bridge.signature import Signature, parse

LANGS = {".c": "c", ".cc": "c++", ".cpp": "c++", ".cxx": "c++", ".C": "c++",
         ".f": "fortran", ".f90": "fortran", ".F90": "fortran", ".f95": "fortran", ".f03": "fortran",
         ".F": "fortran", ".f08": "fortran"}
DEFAULT_FLAGS = ("-O2",)


def compile(source, functions=None, flags=None, lang: str | None = None, config: str | None = None,
            name: str | None = None):
    """Build (or fetch from the cache) a library of differentiable kernels.

    source: a path (str or os.PathLike) to a .c/.cpp/.f90 file, or the source text itself.
    functions: signatures such as "f(x: f64[n]) -> (y: f64[n])", names whose signatures are in
      the configuration, or a dict {name: "(x: f64[n]) -> (y: f64[n])"}; None: every function of
      the configuration.
    flags: compiler flags (default: the configuration's, else -O2). lang: "c", "c++" or
      "fortran" (default: from the file name; C for source text). config: an adcc.toml or
      pyproject.toml to read instead of the nearest one. name: file name for source text
      (appears in compiler messages).
    Raises adcc.CompileError with the compiler's messages when the source does not compile.
    """
    from adcc.bridge import build
    from adcc.bridge.library import Library
    path, directory = _locate(source)
    cfg = config_files.load(config) if config else config_files.find(directory)
    lang = lang or cfg.lang or (LANGS.get(os.path.splitext(path)[1]) if path else "c")
    if lang not in ("c", "c++", "fortran"):
        raise ValueError(f"adcc.compile: unknown language '{lang}' (use 'c', 'c++' or 'fortran')")
    if path is None:
        path = _store_text(str(source), name, lang)
    signatures = _signatures(functions, cfg)
    flags = [str(f) for f in flags] if flags is not None else list(cfg.flags or DEFAULT_FLAGS)
    return Library(build.build(path, signatures, flags, lang), signatures)


def _locate(source) -> tuple[str | None, str]:
    """(path of the source file or None for source text, directory governing configuration)."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and os.path.splitext(source)[1] in LANGS):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"adcc.compile: no such source file: '{path}'")
        return os.path.abspath(path), os.path.dirname(os.path.abspath(path))
    if not isinstance(source, str):
        raise TypeError(f"adcc.compile: source must be a path or source text, got {type(source).__name__}")
    return None, os.getcwd()


def _store_text(text: str, name: str | None, lang: str) -> str:
    """Source text is written once, content-addressed, into the cache (compiler messages name it)."""
    from adcc.driver import toolchain
    digest = hashlib.sha256(f"{lang}\0{text}".encode()).hexdigest()[:16]
    filename = name or ("kernel" + {"c": ".c", "c++": ".cpp", "fortran": ".f90"}[lang])
    directory = os.path.join(toolchain.cache_dir(), "bridge", "sources", digest)
    path = os.path.join(directory, os.path.basename(filename))
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return path


def _signatures(functions, cfg) -> list[Signature]:
    declared = cfg.functions
    if functions is None:
        if not declared:
            raise ValueError("adcc.compile: no functions given and no [tool.adcc.functions] / adcc.toml "
                             "declares any")
        functions = dict(declared)
    if isinstance(functions, dict):
        items = [parse(text, name) for name, text in functions.items()]
    else:
        if isinstance(functions, (str, Signature)):
            functions = [functions]
        items = []
        for f in functions:
            if isinstance(f, Signature):
                items.append(f)
            elif "(" in f:
                items.append(parse(f))
            elif f in declared:
                items.append(parse(declared[f], f))
            else:
                where = f" in {cfg.path}" if cfg.path else " (no adcc.toml or [tool.adcc] found)"
                raise ValueError(f"adcc.compile: no signature for '{f}'{where}; write it as "
                                 f"\"{f}(x: f64[n]) -> (y: f64[n])\"")
    names = [s.name for s in items]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ValueError(f"adcc.compile: function '{duplicate}' is declared twice")
    return items
