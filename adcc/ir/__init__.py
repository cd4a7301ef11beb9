"""adcc's own LLVM IR layer: the only code that reads or writes LLVM text."""
from adcc.ir.module import Module, parse_module
from adcc.ir.parser import ParseError

__all__ = ["Module", "parse_module", "ParseError"]
