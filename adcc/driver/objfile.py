"""Just enough ELF reading to find the `.llvm.lto` bitcode section and `__enzyme_` symbols.

An object needs differentiation when its native part (everything outside `.llvm.lto`)
names a `__enzyme_*` symbol: the only such symbols are undefined references.
"""
from __future__ import annotations

import struct

ENZYME = b"__enzyme_"
LTO_SECTION = b".llvm.lto"


def _section_headers(data: bytes) -> tuple[list[tuple[int, ...]], int]:
    """(name offset, type, flags, addr, offset, size, link) of each section of a 64-bit
    little-endian ELF file, and the index of the section names; ([], 0) for anything else."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return [], 0
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff == 0 or shentsize < 64 or shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        return [], 0
    return [struct.unpack_from("<IIQQQQI", data, shoff + i * shentsize) for i in range(shnum)], shstrndx


def sections(data: bytes) -> dict[bytes, tuple[int, int]]:
    """{name: (offset, size)} of a 64-bit little-endian ELF file; {} for anything else."""
    headers, shstrndx = _section_headers(data)
    if not headers:
        return {}
    str_off, str_size = headers[shstrndx][4], headers[shstrndx][5]
    names = data[str_off:str_off + str_size]
    out = {}
    for name_off, sh_type, _flags, _addr, offset, size, _link in headers:
        end = names.find(b"\0", name_off)
        out[names[name_off:end]] = (offset, 0 if sh_type == 8 else size)  # SHT_NOBITS has no bytes
    return out


def symbols(data: bytes) -> tuple[set[str], set[str]]:
    """(defined, undefined) global and weak symbol names of an ELF relocatable object, from
    its symbol table (what a linker resolves archive members by)."""
    headers, _ = _section_headers(data)
    defined: set[str] = set()
    undefined: set[str] = set()
    for _name, sh_type, _flags, _addr, offset, size, link in headers:
        if sh_type != 2 or link >= len(headers):  # SHT_SYMTAB
            continue
        str_off, str_size = headers[link][4], headers[link][5]
        names = data[str_off:str_off + str_size]
        for pos in range(offset + 24, min(offset + size, len(data)) - 23, 24):  # entry 0 is null
            name_off, info, _other, shndx = struct.unpack_from("<IBBH", data, pos)
            if info >> 4 not in (1, 2) or name_off == 0:  # STB_GLOBAL, STB_WEAK only
                continue
            name = names[name_off:names.find(b"\0", name_off)].decode("utf-8", "surrogateescape")
            (undefined if shndx == 0 else defined).add(name)
    return defined, undefined


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


def archive_members(data: bytes) -> list[tuple[str, bytes]]:
    """The members of a `!<arch>` static library (GNU/BSD format), as (name, bytes)."""
    if not data.startswith(b"!<arch>\n"):
        return []
    out: list[tuple[str, bytes]] = []
    names = b""
    pos = 8
    while pos + 60 <= len(data):
        hdr = data[pos:pos + 60]
        name = hdr[:16].rstrip()
        try:
            size = int(hdr[48:58].strip() or b"0")
        except ValueError:
            break
        body = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
        if name == b"//":
            names = body
            continue
        if name in (b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED"):
            continue
        if name.startswith(b"#1/"):  # BSD: name stored before the body
            n = int(name[3:])
            name, body = body[:n].rstrip(b"\0"), body[n:]
        elif name.startswith(b"/") and name[1:].isdigit():  # GNU long name
            off = int(name[1:])
            name = names[off:names.index(b"/\n", off)] if b"/\n" in names[off:] else names[off:]
        out.append((name.rstrip(b"/").decode("utf-8", "replace"), body))
    return out
