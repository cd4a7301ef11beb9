"""`adcc-tool`: tool subcommands only (compiler flags belong to adcc/adcc++/adflang)."""
from __future__ import annotations

import sys

import click

from adcc.diagnostics import CompileError


@click.group()
def cli() -> None:
    """adcc helper commands."""


@cli.command()
def version() -> None:
    """Print adcc's version and the LLVM versions it uses."""
    import llvmlite.binding as llvm

    from adcc import __version__
    from adcc.driver import console, stages, toolchain
    lite = ".".join(map(str, llvm.llvm_version_info))
    console.out(f"adcc {__version__} (llvmlite LLVM {lite}, front end {toolchain.clang()} "
                f"{stages.tool_version(toolchain.clang()) or 'not found'})")


@cli.command("runtime-path")
@click.option("--bitcode", is_flag=True, help="print the runtime bitcode instead of the archive")
def runtime_path(bitcode: bool) -> None:
    """Build the runtime if needed and print its path."""
    from adcc.driver import console
    from adcc.driver.runtime import ensure_runtime
    try:
        rt = ensure_runtime()
    except CompileError as e:
        console.report_error(e, "adcc-tool")
        sys.exit(1)
    console.out(rt.bitcode if bitcode else rt.lib_a)


@cli.command("fortran-module-dir")
def fortran_module_dir() -> None:
    """Build the adcc_ad Fortran module if needed and print its directory (for flang -I)."""
    from adcc.driver import console
    from adcc.driver.fortran_module import module_dir
    try:
        console.out(module_dir())
    except CompileError as e:
        console.report_error(e, "adcc-tool")
        sys.exit(1)


@cli.command("cache-dir")
def cache_dir() -> None:
    """Print the per-user cache directory."""
    from adcc.driver import console, toolchain
    console.out(toolchain.cache_dir())


@cli.command("install-launchers")
@click.option("--native", "native_path", metavar="BINARY", default=None,
              help="install this prebuilt native launcher (default: build launcher/adcc_launcher.c with cc)")
@click.option("--no-native", is_flag=True, help="Python launchers only")
def install_launchers(native_path: str | None, no_native: bool) -> None:
    """Install the adcc/adcc++/adflang launchers: a native fast-path launcher in front of
    lean Python ones (<name>-py), replacing pip's wrappers (faster start-up)."""
    from adcc.driver import console
    from adcc.driver.launchers import PY_SUFFIX, install, is_native
    native = False if no_native else (native_path or True)
    for path in install(native=native, report=lambda message: console.report(f"adcc-tool: warning: {message}")):
        kind = "native" if is_native(path) else "python"
        console.out(f"wrote {path} ({kind}), {path}{PY_SUFFIX}")
    from adcc.driver.integration import install_cmake_package
    console.out(f"wrote the CMake package and toolchain file in {install_cmake_package()}")


@cli.command("cmake-toolchain")
def cmake_toolchain() -> None:
    """Print the path of adcc's CMake toolchain file (C, C++ and Fortran compiled by adcc):
    cmake -DCMAKE_TOOLCHAIN_FILE="$(adcc-tool cmake-toolchain)" -S . -B build"""
    from adcc.driver import console
    from adcc.driver.integration import toolchain_file
    console.out(toolchain_file())


@cli.command("cmake-dir")
def cmake_dir() -> None:
    """Print the directory of adcc's CMake package (for -Dadcc_DIR=... when
    find_package(adcc) does not find it on its own)."""
    from adcc.driver import console
    from adcc.driver.integration import install_cmake_package
    console.out(install_cmake_package())


@cli.command()
def env() -> None:
    """Print shell exports of CC, CXX and FC naming adcc's compilers: eval "$(adcc-tool env)"."""
    from adcc.driver.integration import env_text
    sys.stdout.write(env_text())


@cli.command("include-dir")
def include_dir() -> None:
    """Print the directory of the Enzyme headers adcc ships (<enzyme/enzyme>)."""
    from adcc.driver import console
    from adcc.driver.integration import include_dir as path
    console.out(path())
