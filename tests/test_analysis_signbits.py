"""Sign changes through a float's bits (adcc/analysis/signbits.py): which integer operations
change at most the sign bit of their one varying operand."""
from adcc.analysis.signbits import sign_operand
from adcc.ir import parse_module

TEXT = """
define i64 @f(i64 %x, i32 %n, i64 %m) {
  %z = zext i32 %n to i64
  %s = shl i64 %z, 63
  %sub = sub i64 %x, %s
  %add = add i64 %s, %x
  %rsub = sub i64 %s, %x
  %other = shl i64 %z, 62
  %sub2 = sub i64 %x, %other
  %subc = sub i64 %x, -9223372036854775808
  %inc = add i64 %x, 1
  %xor = xor i64 %x, -9223372036854775808
  ret i64 %sub
}
"""


def test_add_and_sub_of_a_sign_bit_flip_it():
    m = parse_module(TEXT)
    fn = m.function("f")
    x = fn.args[0]
    v = {i.name: i for i in fn.instructions() if i.name}
    varied = lambda val: val is x  # noqa: E731
    for name in ("sub", "add", "subc", "xor"):
        assert sign_operand(v[name], varied) is x, name
    for name in ("rsub", "sub2", "inc"):  # SIGN - x, a lower bit, the next double
        assert sign_operand(v[name], varied) is None, name
