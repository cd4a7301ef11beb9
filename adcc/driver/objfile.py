"""Just enough ELF reading to find the `.llvm.lto` bitcode section and `__enzyme_` symbols.

An object needs differentiation when its native part (everything outside `.llvm.lto`)
names a `__enzyme_*` symbol: the only such symbols are undefined references.
"""
from __future__ import annotations

import os
import stat
import struct

ENZYME = b"__enzyme_"
LTO_SECTION = b".llvm.lto"  # clang's fat-LTO bitcode, as -ffat-lto-objects writes it
PACKED_SECTION = b".adcc.bc"  # the same bitcode zlib-compressed: what adcc's objects carry
OMITTED_SECTION = b".adcc.nb"  # empty: the unit's bitcode was left out (no floating point in it)


_SHDR = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr
_CHDR = struct.Struct("<IIQQ")        # Elf64_Chdr
SHT_PROGBITS, SHT_SYMTAB, SHT_NOBITS = 1, 2, 8
SHF_COMPRESSED = 0x800
ELFCOMPRESS_ZLIB = 1


class Section:
    """One section header of an ELF64 little-endian file."""
    __slots__ = ("index", "name", "name_offset", "type", "flags", "offset", "size", "link", "align")

    def __init__(self, index, name, fields):
        self.index, self.name = index, name
        self.name_offset, self.type, self.flags, _, self.offset, self.size, self.link, _, self.align, _ = fields


def section_table(data: bytes) -> list[Section]:
    """The sections of a 64-bit little-endian ELF file; [] for anything else."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff == 0 or shentsize < _SHDR.size or shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        return []
    raw = [_SHDR.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    str_off, str_size = raw[shstrndx][4], raw[shstrndx][5]
    names = data[str_off:str_off + str_size]
    return [Section(i, names[f[0]:names.find(b"\0", f[0])], f) for i, f in enumerate(raw)]


def sections(data: bytes) -> dict[bytes, tuple[int, int]]:
    """{name: (offset, size)} of a 64-bit little-endian ELF file; {} for anything else."""
    return {sec.name: (sec.offset, 0 if sec.type == SHT_NOBITS else sec.size) for sec in section_table(data)}


def symbols(data: bytes) -> tuple[set[str], set[str]]:
    """(defined, undefined) global and weak symbol names of an ELF relocatable object, from
    its symbol table (what a linker resolves archive members by)."""
    table = section_table(data)
    defined: set[str] = set()
    undefined: set[str] = set()
    for sec in table:
        if sec.type != SHT_SYMTAB or sec.link >= len(table):
            continue
        strings = table[sec.link]
        names = data[strings.offset:strings.offset + strings.size]
        for pos in range(sec.offset + 24, min(sec.offset + sec.size, len(data)) - 23, 24):  # entry 0 is null
            name_off, info, _other, shndx = struct.unpack_from("<IBBH", data, pos)
            if info >> 4 not in (1, 2) or name_off == 0:  # STB_GLOBAL, STB_WEAK only
                continue
            name = names[name_off:names.find(b"\0", name_off)].decode("utf-8", "surrogateescape")
            (undefined if shndx == 0 else defined).add(name)
    return defined, undefined


def compress_embedded_bitcode(data: bytes, level: int = 1, omit_without_float: bool = False) -> bytes:
    """The object with its `.llvm.lto` bitcode zlib-compressed in place: an SHF_COMPRESSED
    section (as `objcopy --compress-sections` writes one; linkers drop it, SHF_EXCLUDE, like
    the plain one) renamed `.adcc.bc` and typed PROGBITS, because binutils' LTO plugin takes
    any `.llvm.lto` section for bitcode and, failing to read it, hides the object's symbols
    from `ar` and `nm`. The sections after it move up by a multiple of their alignment.
    With `omit_without_float`, a module without any floating-point type leaves only an empty
    `.adcc.nb` section instead: the link step then refuses to differentiate through the
    unit's functions, naming the object (adcc.driver.link), rather than guess what they do.
    `data` unchanged when there is nothing to gain (no such section, not an ELF64 object).
    Level 1: within 1% of level 9's size on zlib's bitcode, at a third of level 6's time.
    The native launcher does the same in C (launcher/adcc_launcher.c: compressed_object)."""
    import zlib
    table = section_table(data)
    lto = next((sec for sec in table if sec.name == LTO_SECTION), None)
    if lto is None or lto.flags & SHF_COMPRESSED or lto.size == 0:
        return data
    body = data[lto.offset:lto.offset + lto.size]
    if omit_without_float and bitcode_has_float(body) is False:
        payload, name, flags, align = b"", OMITTED_SECTION, lto.flags, 1
    else:
        payload = _CHDR.pack(ELFCOMPRESS_ZLIB, 0, lto.size, max(lto.align, 1)) + zlib.compress(body, level)
        name, flags, align = PACKED_SECTION, lto.flags | SHF_COMPRESSED, 8
    old_end = lto.offset + lto.size
    start = (lto.offset + 7) & ~7  # the header wants 8-byte alignment
    shoff, = struct.unpack_from("<Q", data, 0x28)
    later = [sec for sec in table if sec.offset >= old_end and sec.type != SHT_NOBITS]
    step = max([8, *(sec.align for sec in later)])
    shift = (old_end - start - len(payload)) // step * step
    if shift <= 0 or any(lto.offset < sec.offset < old_end for sec in table if sec is not lto) \
            or _name_offset(table, lto) is None:
        return data
    out = bytearray(data[:lto.offset])
    out += bytes(start - lto.offset) + payload
    out += bytes(old_end - shift - len(out))
    out += data[old_end:]
    new_shoff = shoff - shift if shoff >= old_end else shoff
    struct.pack_into("<Q", out, 0x28, new_shoff)
    names = table[struct.unpack_from("<H", data, 0x3E)[0]]
    name_at = names.offset - (shift if names.offset >= old_end else 0) + _name_offset(table, lto)
    out[name_at:name_at + len(LTO_SECTION)] = name.ljust(len(LTO_SECTION), b"\0")
    shentsize, = struct.unpack_from("<H", data, 0x3A)
    for sec in table:
        pos = new_shoff + sec.index * shentsize
        fields = list(_SHDR.unpack_from(out, pos))
        if sec is lto:
            fields[1], fields[2] = SHT_PROGBITS, flags
            fields[4], fields[5], fields[8] = start, len(payload), align
        elif sec.offset >= old_end and sec.type != SHT_NOBITS:
            fields[4] -= shift
        _SHDR.pack_into(out, pos, *fields)
    return bytes(out)


def bitcode_has_float(bitcode: bytes) -> bool | None:
    """Whether a bitcode module uses any floating-point type; None when it cannot tell."""
    from adcc.driver.bitstream import has_float
    return has_float(bitcode)


def bitcode_omitted(data: bytes) -> bool:
    """Whether an adcc object left its unit's bitcode out (`.adcc.nb`)."""
    return any(sec.name == OMITTED_SECTION for sec in section_table(data))


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _name_offset(table: list[Section], sec: Section) -> int | None:
    """Where `sec`'s name starts in the section-name table, if no other name shares its bytes
    (a string table may let names overlap: renaming in place must not touch another)."""
    start, end = sec.name_offset, sec.name_offset + len(sec.name)
    return None if any(start <= o.name_offset <= end for o in table if o is not sec) else start


def _bitcode_section(table: list[Section]) -> Section | None:
    return next((sec for sec in table if sec.name in (LTO_SECTION, PACKED_SECTION)), None)


def native_mentions_enzyme(data: bytes) -> bool:
    if ENZYME not in data:
        return False
    lto = _bitcode_section(section_table(data))
    if lto is None:
        return True
    return ENZYME in data[:lto.offset] or ENZYME in data[lto.offset + lto.size:]


def source_mentions_enzyme(path: str) -> bool:
    """Whether a source file itself names the Enzyme API: such a unit almost always calls it, so
    a first compile with clang alone would be thrown away (the launcher checks the same). No
    mention proves nothing (a header may call it): the fast path's object is still scanned."""
    try:
        if path == "-" or not stat.S_ISREG(os.stat(path).st_mode):
            return False  # read once, by the front end (a pipe, /dev/stdin, ...)
        return ENZYME in read(path)
    except OSError:
        return False  # the front end reports it


def needs_ad(path: str, action: str = "obj") -> bool:
    """Whether the front end's output at `path` still calls the Enzyme API."""
    try:
        data = read(path)
    except OSError:
        return False
    if action != "obj":
        return ENZYME in data
    return native_mentions_enzyme(data)


def compress_object(path: str, omit_without_float: bool = False) -> None:
    """Compress the embedded bitcode of the object at `path` (a temp output of ours) in place
    (or leave it out, see compress_embedded_bitcode)."""
    try:
        data = read(path)
        packed = compress_embedded_bitcode(data, omit_without_float=omit_without_float)
        if packed is not data:
            with open(path, "wb") as f:
                f.write(packed)
    except OSError:
        pass  # the object stays as clang wrote it, which is as valid


def embedded_bitcode(data: bytes) -> bytes | None:
    """The bitcode of an object's `.llvm.lto` section (decompressed), or None."""
    lto = _bitcode_section(section_table(data))
    if lto is None or lto.type == SHT_NOBITS:
        return None
    body = data[lto.offset:lto.offset + lto.size]
    if lto.flags & SHF_COMPRESSED and len(body) >= _CHDR.size:
        import zlib
        kind, _, size, _ = _CHDR.unpack_from(body)
        try:
            body = zlib.decompress(body[_CHDR.size:]) if kind == ELFCOMPRESS_ZLIB else b""
        except zlib.error:
            body = b""
    return body or None


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
