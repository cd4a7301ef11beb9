"""Just enough of LLVM's bitstream format to list a bitcode module's types without LLVM.

Used on the fast path (no llvmlite loaded) to tell whether a unit has any floating-point type:
the module's type table (TYPE_BLOCK_NEW) lists every type its values, instructions and
metadata use. The launcher does the same in C (launcher/adcc_launcher.c: bitcode_has_float).
Anything unexpected gives None ("cannot tell"), never a guess.
"""
from __future__ import annotations

_MAGIC = b"BC\xc0\xde"
_WRAPPER = b"\xde\xc0\x17\x0b"
MODULE_BLOCK, TYPE_BLOCK = 8, 17
# TYPE_CODE_FLOAT, DOUBLE, HALF, X86_FP80, FP128, PPC_FP128, BFLOAT (LLVMBitCodes.h)
FLOAT_TYPE_CODES = frozenset((3, 4, 10, 13, 14, 15, 23))
_FIXED, _VBR, _ARRAY, _CHAR6, _BLOB = 1, 2, 3, 4, 5


class _Malformed(Exception):
    pass


class _Reader:
    def __init__(self, data: bytes, start: int):
        self.data, self.pos, self.end = data, start * 8, len(data) * 8

    def fixed(self, width: int) -> int:
        if width == 0:
            return 0
        if width > 64 or self.pos + width > self.end:
            raise _Malformed
        byte = self.pos >> 3
        value = int.from_bytes(self.data[byte:byte + 9], "little") >> (self.pos & 7)
        self.pos += width
        return value & ((1 << width) - 1)

    def vbr(self, width: int) -> int:
        if width < 2 or width > 32:
            raise _Malformed
        value, shift, high = 0, 0, 1 << (width - 1)
        while True:
            chunk = self.fixed(width)
            value |= (chunk & (high - 1)) << shift
            if not chunk & high:
                return value
            shift += width - 1
            if shift > 64:
                raise _Malformed

    def align32(self) -> None:
        self.pos = (self.pos + 31) & ~31

    def define_abbrev(self) -> list[tuple[int, int]]:
        """[(encoding, value)], a literal as (0, value)."""
        ops = []
        for _ in range(self.vbr(5)):
            if self.fixed(1):
                ops.append((0, self.vbr(8)))
            else:
                enc = self.fixed(3)
                if enc not in (_FIXED, _VBR, _ARRAY, _CHAR6, _BLOB):
                    raise _Malformed
                ops.append((enc, self.vbr(5) if enc in (_FIXED, _VBR) else 0))
        return ops

    def scalar(self, enc: int, value: int) -> int:
        if enc == 0:
            return value
        if enc == _FIXED:
            return self.fixed(value)
        if enc == _VBR:
            return self.vbr(value)
        if enc == _CHAR6:
            return self.fixed(6)
        raise _Malformed

    def abbreviated_code(self, ops: list[tuple[int, int]]) -> int:
        """Read one record by its abbreviation; its code (the first operand)."""
        values: list[int] = []
        k = 0
        while k < len(ops):
            enc, value = ops[k]
            if enc == _ARRAY:
                if k + 1 >= len(ops):
                    raise _Malformed
                for _ in range(self.vbr(6)):
                    values.append(self.scalar(*ops[k + 1]))
                k += 2
                continue
            if enc == _BLOB:
                n = self.vbr(6)
                self.align32()
                self.pos += n * 8
                self.align32()
                if self.pos > self.end:
                    raise _Malformed
                values.append(0)
            else:
                values.append(self.scalar(enc, value))
            k += 1
        if not values:
            raise _Malformed
        return values[0]


def type_codes(bitcode: bytes) -> set[int] | None:
    """The record codes of the first module's type table; None when it cannot be read."""
    data = bitcode
    if data[:4] == _WRAPPER and len(data) >= 20:
        offset = int.from_bytes(data[8:12], "little")
        size = int.from_bytes(data[12:16], "little")
        data = data[offset:offset + size]
    if data[:4] != _MAGIC:
        return None
    r = _Reader(data, 4)
    try:
        return _scan(r)
    except _Malformed:
        return None


def _scan(r: _Reader) -> set[int] | None:
    width, path = 2, []  # path: the block ids entered (top level: [])
    abbrevs: list[list[tuple[int, int]]] = []
    saved: list[tuple[int, list]] = []
    codes: set[int] = set()
    while r.pos + width <= r.end:
        abbrev = r.fixed(width)
        if abbrev == 0:  # END_BLOCK
            r.align32()
            if not path:
                raise _Malformed
            if path.pop() == TYPE_BLOCK:
                return codes
            width, abbrevs = saved.pop()
        elif abbrev == 1:  # ENTER_SUBBLOCK
            block, new_width = r.vbr(8), r.vbr(4)
            r.align32()
            words = r.fixed(32)
            inside = path == [] and block == MODULE_BLOCK or path == [MODULE_BLOCK] and block == TYPE_BLOCK
            if not inside:
                r.pos += words * 32
                if r.pos > r.end:
                    raise _Malformed
                continue
            if not 1 <= new_width <= 32:
                raise _Malformed
            saved.append((width, abbrevs))
            path.append(block)
            width, abbrevs = new_width, []
        elif abbrev == 2:
            abbrevs.append(r.define_abbrev())
        elif abbrev == 3:  # UNABBREV_RECORD
            code, n = r.vbr(6), r.vbr(6)
            for _ in range(n):
                r.vbr(6)
            if path[-1:] == [TYPE_BLOCK]:
                codes.add(code)
        else:
            if abbrev - 4 >= len(abbrevs):
                raise _Malformed  # a BLOCKINFO abbreviation: not used in these two blocks
            code = r.abbreviated_code(abbrevs[abbrev - 4])
            if path[-1:] == [TYPE_BLOCK]:
                codes.add(code)
    return None


def has_float(bitcode: bytes) -> bool | None:
    """Whether the module uses any floating-point type (scalar, or inside a vector, array,
    struct or function type: those are built from the scalar's entry); None: cannot tell."""
    codes = type_codes(bitcode)
    return None if codes is None else bool(codes & FLOAT_TYPE_CODES)
