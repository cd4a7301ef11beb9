"""adcc: a drop-in C/C++/Fortran compiler that synthesizes derivatives (Enzyme API)."""
__version__ = "0.1.0"
