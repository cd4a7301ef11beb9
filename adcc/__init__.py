"""adcc: a drop-in C/C++/Fortran compiler that synthesizes derivatives (Enzyme API)."""
__version__ = "0.1.0"

# The Python bridge (adcc.compile, adcc.jax, adcc.torch, adcc.tensorflow) is loaded on first
# use: `import adcc` stays as light as the compiler's launchers need.
_LAZY = {"compile": ("adcc.bridge", "compile"), "Signature": ("adcc.bridge.signature", "Signature"),
         "CompileError": ("adcc.diagnostics", "CompileError"),
         "KernelError": ("adcc.bridge.library", "KernelError")}
_SUBMODULES = ("jax", "torch", "tensorflow", "bridge")


def __getattr__(name):
    import importlib
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f"adcc.{name}")
    raise AttributeError(f"module 'adcc' has no attribute '{name}'")
