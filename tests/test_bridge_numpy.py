"""adcc.compile and the NumPy API: values, forward and reverse derivatives against finite
differences at -O0..-O3, argument checking, compile errors, the crash guard and the cache."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adcc
from bridge_helpers import KERNELS, SIGNATURES, central_difference, library, mix_inputs, mix_reference

OPTS = ("-O0", "-O1", "-O2", "-O3")


@pytest.mark.parametrize("opt", OPTS)
def test_primal_matches_numpy(opt):
    lib = library(opt)
    x, w, c = mix_inputs(np.random.default_rng(0))
    y, s = lib.mix(x, w, c)
    y_ref, s_ref = mix_reference(x, w, c)
    np.testing.assert_allclose(y, y_ref, rtol=1e-13)
    np.testing.assert_allclose(s, s_ref, rtol=1e-13)
    assert y.dtype == np.float64 and y.shape == (3,) and s.shape == ()


@pytest.mark.parametrize("opt", OPTS)
def test_forward_derivative_matches_finite_differences(opt):
    lib = library(opt)
    rng = np.random.default_rng(1)
    x, w, c = mix_inputs(rng)
    dx, dw = rng.normal(size=x.shape), rng.normal(size=w.shape)
    (y, s), (ty, ts) = lib.jvp_mix((x, w, c), (dx, dw, None))
    fd_y, fd_s = central_difference(lib.mix, (x, w, c), (dx, dw, None))
    np.testing.assert_allclose(ty, fd_y, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ts, fd_s, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(y, mix_reference(x, w, c)[0], rtol=1e-13)
    xs = rng.normal(size=7)
    dxs = rng.normal(size=7)
    _, t = lib.jvp_scan((xs,), (dxs,))
    np.testing.assert_allclose(t, central_difference(lib.scan, (xs,), (dxs,))[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("opt", OPTS)
def test_reverse_derivative_matches_finite_differences(opt):
    lib = library(opt)
    rng = np.random.default_rng(2)
    x, w, c = mix_inputs(rng)
    cy, cs = rng.normal(size=3), rng.normal()
    gx, gw, gc = lib.vjp_mix((x, w, c), (cy, cs))
    assert gc is None and gx.shape == x.shape and gw.shape == w.shape
    for _ in range(3):  # <ct, J v> = <J^T ct, v> along random v, J v by finite differences
        dx, dw = rng.normal(size=x.shape), rng.normal(size=w.shape)
        fd_y, fd_s = central_difference(lib.mix, (x, w, c), (dx, dw, None))
        np.testing.assert_allclose(np.dot(gx, dx) + np.sum(gw * dw), np.dot(cy, fd_y) + cs * fd_s, rtol=1e-6)
    xs = rng.normal(size=9)
    (g,) = lib.vjp_scan((xs,), np.ones(9))
    fd = [central_difference(lambda v: lib.scan(v).sum(), (xs,), (np.eye(9)[i],))[0] for i in range(9)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_cotangents_are_not_consumed_and_gradients_do_not_accumulate():
    lib = library()
    x, w, c = mix_inputs(np.random.default_rng(3))
    cts = (np.ones(3), np.array(2.0))
    first = lib.vjp_mix((x, w, c), cts)
    second = lib.vjp_mix((x, w, c), cts)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(cts[0], np.ones(3))


def test_float32_kernel():
    lib = library()
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    y = lib.smooth32(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x * np.sqrt(1 + x * x), rtol=1e-6)
    (g,) = lib.vjp_smooth32((x,), np.ones_like(x))
    np.testing.assert_allclose(g, np.sqrt(1 + x * x) + x * x / np.sqrt(1 + x * x), rtol=1e-5)
    _, t = lib.jvp_smooth32((x,), (np.ones_like(x),))
    np.testing.assert_allclose(t, g, rtol=1e-6)


def test_non_contiguous_inputs_and_python_scalars():
    lib = library()
    x, w, c = mix_inputs(np.random.default_rng(4))
    wide = np.zeros((5, 6))
    wide[:, ::2] = w
    y, s = lib.mix(x, wide[:, ::2], c)
    np.testing.assert_allclose(y, mix_reference(x, w, c)[0], rtol=1e-13)
    (g,) = lib.vjp_scan(([0.5, -1.0, 2.0],), [1.0, 1.0, 1.0])
    assert g.shape == (3,)


def test_data_address_of_any_ndarray():
    from adcc.bridge.library import address
    base = np.arange(24.0).reshape(4, 6)
    readonly = np.ones(5)
    readonly.flags.writeable = False
    for a in (base, base[1:], base[:, 2:], base.T, base[::2], readonly, np.ones(3, np.float32),
              np.empty(0), np.asarray(2.5), np.ones(3).view(np.matrix)):
        assert address(a) == a.ctypes.data


def test_shapes_vary_between_calls_and_read_only_inputs():
    lib = library()
    rng = np.random.default_rng(6)
    for n in (9, 3, 9, 1, 40):  # the per-shape cache hands each call its own dims
        xs = rng.normal(size=n)
        xs.flags.writeable = False
        np.testing.assert_allclose(lib.scan(xs), lib.scan(xs.copy()), rtol=0)
        assert lib.scan(xs).shape == (n,)
        (g,) = lib.vjp_scan((xs,), np.ones(n))
        fd = [central_difference(lambda v: lib.scan(v).sum(), (xs,), (np.eye(n)[i],))[0] for i in range(min(n, 3))]
        np.testing.assert_allclose(g[:len(fd)], fd, rtol=1e-6, atol=1e-8)
    x, w, c = mix_inputs(rng)
    with pytest.raises(ValueError, match="input 'w' has n=4"):  # after a cached good call
        lib.mix(x, w[:4], c)
    lib.mix(x, w, c)
    with pytest.raises(ValueError, match="input 'w' has n=4"):
        lib.mix(x, w[:4], c)


@pytest.mark.parametrize("call, error, message", [
    (lambda lib, x, w, c: lib.mix(x.astype(np.float32), w, c), TypeError, "input 'x' must be float64, got float32"),
    (lambda lib, x, w, c: lib.mix(x, w[:4], c), ValueError, "input 'w' has n=4 along axis 0"),
    (lambda lib, x, w, c: lib.mix(x, w, c[:1]), ValueError, "input 'c' must have 2 elements"),
    (lambda lib, x, w, c: lib.mix(x, w), TypeError, r"takes 3 input\(s\) \(x, w, c\), got 2"),
    (lambda lib, x, w, c: lib.mix(x, "w", c), TypeError, "input 'w' must be a float64 array, got str"),
    (lambda lib, x, w, c: lib.mix(x, w.T, c), ValueError, "input 'w'"),
    (lambda lib, x, w, c: lib.jvp_mix((x, w, c), (x, w, c)), ValueError, "input 'c' is const"),
    (lambda lib, x, w, c: lib.jvp_mix((x, w, c), (x[:2], None, None)), ValueError, "tangent of 'x' must have shape"),
    (lambda lib, x, w, c: lib.vjp_mix((x, w, c), (np.ones(4), 1.0)), ValueError, "cotangent of 'y' must have shape"),
    (lambda lib, x, w, c: lib.vjp_mix((x, w, c), np.ones(3)), TypeError, "cotangents must be a tuple"),
    (lambda lib, x, w, c: lib.smooth32(np.ones((2, 3))), TypeError, "input 'x' must be float32, got float64"),
])
def test_bad_arguments_raise_naming_the_argument(call, error, message):
    x, w, c = mix_inputs(np.random.default_rng(5))
    with pytest.raises(error, match=message):
        call(library(), x, w, c)


def test_library_attributes():
    lib = library()
    assert set(lib.kernels) == {"mix", "scan", "smooth32", "crash"}
    assert "vjp_mix" in dir(lib)
    with pytest.raises(AttributeError, match="no kernel 'nope'"):
        lib.nope
    with pytest.raises(KeyError, match="no kernel 'nope'"):
        lib["nope"]


CRASH_SCRIPT = textwrap.dedent("""
    import sys, faulthandler
    import numpy as np, adcc
    sys.path.insert(0, {tests!r})
    if {faulthandler}:
        faulthandler.enable()
    from bridge_helpers import library
    lib = library()
    for bad, name in ((-1.0, "SIGSEGV"), (1e7, "SIGABRT")):
        try:
            lib.crash(np.array([bad, 1.0]))
        except adcc.KernelError as e:
            assert name in str(e), e
            print("caught", name)
        print(lib.crash(np.array([1.0, 2.0])))  # the guard is reusable after a crash
    try:
        lib.vjp_crash((np.array([-1.0]),), np.ones(1))
    except adcc.KernelError as e:
        print("caught in vjp:", "vjp" in str(e))
""")


@pytest.mark.parametrize("faulthandler", [False, True])
def test_kernel_crash_is_an_exception_not_a_dead_process(faulthandler):
    script = CRASH_SCRIPT.format(tests=os.path.dirname(__file__), faulthandler=faulthandler)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("caught") == 3 and "caught in vjp: True" in proc.stdout
    assert proc.stdout.count("[2. 4.]") == 2


def test_crash_outside_a_kernel_still_kills_the_process():
    """The guard's handler passes signals raised outside kernels on (here: to faulthandler)."""
    script = ("import sys, faulthandler, ctypes; sys.path.insert(0, %r); faulthandler.enable()\n"
              "from bridge_helpers import library; import numpy as np\n"
              "library().crash(np.ones(2)); ctypes.string_at(0)\n") % os.path.dirname(__file__)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -11 and "Fatal Python error: Segmentation fault" in proc.stderr


def test_compile_error_carries_the_compilers_messages():
    src = "#include <stdint.h>\nvoid f(double *y, const double *x, int64_t n) {\n  y[0] = x[0] +;\n}\n"
    with pytest.raises(adcc.CompileError) as info:
        adcc.compile(src, functions=["f(x: f64[n]) -> (y: f64[n])"], name="broken.c")
    err = info.value
    assert "broken.c:3:" in str(err) and "error: expected expression" in str(err)
    assert err.diagnostic.location.line == 3 and err.diagnostic.location.file.endswith("broken.c")


def test_prototype_mismatch_is_a_compile_error_at_the_kernel():
    src = "void f(double *y, const double *x, int n) { y[0] = x[0]; }\n"
    with pytest.raises(adcc.CompileError, match="conflicting types for 'f'") as info:
        adcc.compile(src, functions=["f(x: f64[n]) -> (y: f64[n])"], name="proto.c")
    assert info.value.diagnostic.location.line >= 1


def test_missing_kernel_is_a_compile_error():
    with pytest.raises(adcc.CompileError, match="cannot differentiate 'f'"):
        adcc.compile("int unrelated;\n", functions=["f(x: f64) -> (y: f64)"])


def test_missing_signature_and_missing_file():
    with pytest.raises(ValueError, match="no signature for 'mix'"):
        adcc.compile(KERNELS, functions=["mix"])
    with pytest.raises(FileNotFoundError, match="no such source file"):
        adcc.compile("/nonexistent/k.c", functions=SIGNATURES)


def test_signatures_from_adcc_toml(tmp_path):
    (tmp_path / "adcc.toml").write_text(
        '[functions]\nscale = "(x: f64[n]) -> (y: f64[n])"\n')
    src = tmp_path / "k.c"
    src.write_text("#include <stdint.h>\nvoid scale(double *y, const double *x, int64_t n) {\n"
                   "  for (int64_t i = 0; i < n; i++) y[i] = 3 * x[i] * x[i];\n}\n")
    lib = adcc.compile(src)
    np.testing.assert_allclose(lib.vjp_scale((np.array([1.0, 2.0]),), np.ones(2))[0], [6.0, 12.0])
    assert set(adcc.compile(str(src), functions=["scale"]).kernels) == {"scale"}


CXX_KERNEL = """
    #include <cmath>
    #include <cstdint>
    #include <vector>
    template <typename T> static T sq(T v) { return v * v; }
    extern "C" void norm2(double *r, const double *x, int64_t n) {
      %s
    }
"""
CXX_NEW = """double *tmp = new double[n];
      for (int64_t i = 0; i < n; i++) tmp[i] = x[i];
      for (int64_t i = 0; i < n; i++) *r += sq(std::sin(tmp[i]));
      delete[] tmp;"""
CXX_VECTOR = """std::vector<double> tmp(x, x + n);
      for (auto &v : tmp) *r += sq(std::sin(v));"""


@pytest.mark.parametrize("body", [CXX_NEW, CXX_VECTOR], ids=["new", "vector"])
def test_cpp_kernel(body):
    src = textwrap.dedent(CXX_KERNEL % body)
    lib = adcc.compile(src, functions=["norm2(x: f64[n]) -> (r: f64)"], lang="c++")
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(lib.norm2(x), np.sum(np.sin(x) ** 2), rtol=1e-14)
    np.testing.assert_allclose(lib.vjp_norm2((x,), 1.0)[0], 2 * np.sin(x) * np.cos(x), rtol=1e-12)


def test_cpp_kernel_without_c_linkage_is_a_compile_error():
    src = "#include <cstdint>\nvoid g(double *r, const double *x) { *r = x[0]; }\n"
    with pytest.raises(adcc.CompileError, match="language linkage"):
        adcc.compile(src, functions=["g(x: f64) -> (r: f64)"], lang="c++")


def test_fortran_kernel(tmp_path):
    src = tmp_path / "cube.f90"
    src.write_text(textwrap.dedent("""
        subroutine cube(y, x, n) bind(c, name="cube")
          use iso_c_binding
          integer(c_int64_t), value :: n
          real(c_double), intent(out) :: y(n)
          real(c_double), intent(in) :: x(n)
          y = x**3 + sin(x)
        end subroutine
    """))
    lib = adcc.compile(src, functions=["cube(x: f64[n]) -> (y: f64[n])"])
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(lib.cube(x), x ** 3 + np.sin(x), rtol=1e-14)
    np.testing.assert_allclose(lib.vjp_cube((x,), np.ones(3))[0], 3 * x ** 2 + np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(lib.jvp_cube((x,), (np.ones(3),))[1], 3 * x ** 2 + np.cos(x), rtol=1e-12)


COMPILE_SCRIPT = ("import sys, adcc; sys.path.insert(0, %r)\n"
                  "from bridge_helpers import KERNELS, SIGNATURES\n"
                  "print(adcc.compile(KERNELS, functions=SIGNATURES, flags=['-O1', '-DRACE=%%s' %% sys.argv[1]]).path)\n")


def test_cache_is_content_addressed_and_safe_under_concurrent_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    script = COMPILE_SCRIPT % os.path.dirname(__file__)
    procs = [subprocess.Popen([sys.executable, "-c", script, "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=dict(os.environ)) for _ in range(3)]
    paths = set()
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        paths.add(out.strip())
    assert len(paths) == 1
    (path,) = paths
    assert path.startswith(str(tmp_path / "adcc" / "bridge"))
    leftovers = [n for n in os.listdir(os.path.dirname(os.path.dirname(path))) if n.startswith(".build-")]
    assert leftovers == []
    again = subprocess.run([sys.executable, "-c", script, "1"], capture_output=True, text=True, env=dict(os.environ))
    assert again.stdout.strip() == path
    other = subprocess.run([sys.executable, "-c", script, "2"], capture_output=True, text=True, env=dict(os.environ))
    assert other.returncode == 0 and other.stdout.strip() != path  # a different -D is a different library


def test_forward_and_backward_reuse_the_recording_across_threads():
    """Kernel.forward keeps the split-mode tape of its call; Kernel.backward reverses it (any
    thread, any order), once; an unreversed tape is released with its Python object."""
    import gc
    import threading
    lib = library()
    rng = np.random.default_rng(7)
    x, w, c = mix_inputs(rng)
    cts = (rng.normal(size=3), np.array(0.7))
    before = lib.live_tapes()
    runs = []
    for k in range(4):
        (y, s), tape = lib["mix"].forward(x * (k + 1), w, c)
        np.testing.assert_allclose(y, mix_reference(x * (k + 1), w, c)[0], rtol=1e-13)
        runs.append((k, tape))
    assert lib.live_tapes() == before + 4
    got = {}

    def reverse(k, tape):
        got[k] = lib["mix"].backward(tape, cts)

    thread = threading.Thread(target=reverse, args=runs[2])
    thread.start()
    thread.join()
    for k, tape in (runs[3], runs[0]):
        reverse(k, tape)
    for k in (0, 2, 3):
        want = lib.vjp_mix((x * (k + 1), w, c), cts)
        np.testing.assert_allclose(got[k][0], want[0], rtol=1e-13)
        np.testing.assert_allclose(got[k][1], want[1], rtol=1e-13)
        assert got[k][2] is None
    with pytest.raises(RuntimeError, match="reversed or released already"):
        lib["mix"].backward(runs[0][1], cts)
    assert lib.live_tapes() == before + 1
    del runs, tape
    gc.collect()
    assert lib.live_tapes() == before
