"""Just enough ELF reading to find the `.llvm.lto` bitcode section and `__enzyme_` symbols.

An object needs differentiation when its native part (everything outside `.llvm.lto`)
names a `__enzyme_*` symbol: the only such symbols are undefined references.
"""
from __future__ import annotations

import struct

ENZYME = b"__enzyme_"
LTO_SECTION = b".llvm.lto"


def sections(data: bytes) -> dict[bytes, tuple[int, int]]:
    """{name: (offset, size)} of a 64-bit little-endian ELF file; {} for anything else."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return {}
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff == 0 or shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        return {}
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    str_off, str_size = headers[shstrndx][4], headers[shstrndx][5]
    names = data[str_off:str_off + str_size]
    out = {}
    for name_off, sh_type, _flags, _addr, offset, size in headers:
        end = names.find(b"\0", name_off)
        out[names[name_off:end]] = (offset, 0 if sh_type == 8 else size)  # SHT_NOBITS has no bytes
    return out


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def native_mentions_enzyme(data: bytes) -> bool:
    if ENZYME not in data:
        return False
    lto = sections(data).get(LTO_SECTION)
    if lto is None:
        return True
    off, size = lto
    return ENZYME in data[:off] or ENZYME in data[off + size:]


def needs_ad(path: str, action: str = "obj") -> bool:
    """Whether the front end's output at `path` still calls the Enzyme API."""
    try:
        data = read(path)
    except OSError:
        return False
    if action != "obj":
        return ENZYME in data
    return native_mentions_enzyme(data)


def embedded_bitcode(data: bytes) -> bytes | None:
    lto = sections(data).get(LTO_SECTION)
    if lto is None:
        return None
    off, size = lto
    return data[off:off + size] or None
