"""Kernel signatures and their configuration files (adcc.bridge.signature, adcc.bridge.config)."""
import pytest

from adcc.bridge import config
from adcc.bridge.signature import parse


def test_parse_full_signature():
    sig = parse("mix(x: f64[n], w: float64[n, m], const c: f64[2]) -> (y: f64[m], s: f64)")
    assert sig.name == "mix"
    assert [p.name for p in sig.inputs] == ["x", "w", "c"]
    assert [p.differentiable for p in sig.inputs] == [True, True, False]
    assert sig.inputs[1].shape == ("n", "m") and sig.inputs[2].shape == (2,)
    assert sig.outputs[1].shape == () and sig.outputs[1].dtype == "float64"
    assert sig.dim_names == ("n", "m")
    assert sig.c_prototype() == ("void mix(double *y, double *s, const double *x, const double *w, "
                                 "const double *c, int64_t n, int64_t m)")
    assert parse(sig.text()) == sig


def test_name_given_separately_and_bare_output():
    sig = parse("(x: f32[3]) -> y: f32[3]", "g")
    assert sig.name == "g" and sig.outputs[0].dtype == "float32" and sig.dim_names == ()
    assert sig.c_prototype() == "void g(float *y, const float *x)"


def test_bind_resolves_and_checks_dimensions():
    sig = parse("f(a: f64[n, 2], b: f64[n]) -> (y: f64[n])")
    assert sig.bind([(4, 2), (4,)]) == (4,)
    assert sig.output_shapes((4,)) == [(4,)]
    with pytest.raises(ValueError, match="input 'b' has n=5 along axis 0, but an earlier input fixed n=4"):
        sig.bind([(4, 2), (5,)])
    with pytest.raises(ValueError, match="input 'a' must have 2 elements along axis 1"):
        sig.bind([(4, 3), (4,)])
    with pytest.raises(ValueError, match="input 'a' must have rank 2"):
        sig.bind([(4,), (4,)])
    with pytest.raises(TypeError, match="takes 2 input"):
        sig.bind([(4, 2)])


@pytest.mark.parametrize("text, message", [
    ("f(x: f64[n]) -> (y: f64[k])", "dimension 'k' of output 'y' is not fixed by any input"),
    ("f(x: f16[n]) -> (y: f64[n])", "unknown type 'f16'"),
    ("f(x: f64[n]) -> (const y: f64[n])", "output 'y' cannot be const"),
    ("f(x: f64[n], x: f64[n]) -> (y: f64[n])", "the name 'x' is used twice"),
    ("f(x: f64[n]) -> (n: f64)", "the name 'n' is used twice"),
    ("f(x f64[n]) -> (y: f64[n])", "bad parameter 'x f64\\[n\\]'"),
    ("f(x: f64[n-1]) -> (y: f64)", "bad dimension 'n-1'"),
    ("f(x: f64[n])", "bad kernel signature"),
    ("f(x: f64[n]) -> ()", "at least one output"),
])
def test_bad_signatures_are_value_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_signature_names_must_agree():
    with pytest.raises(ValueError, match="names 'f' but is declared for 'g'"):
        parse("f(x: f64) -> (y: f64)", "g")


def test_adcc_toml_found_upwards(tmp_path):
    (tmp_path / "adcc.toml").write_text('flags = ["-O1"]\n[functions]\nf = "(x: f64[n]) -> (y: f64[n])"\n')
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    cfg = config.find(str(sub))
    assert cfg.path == str(tmp_path / "adcc.toml")
    assert cfg.flags == ("-O1",) and parse(cfg.functions["f"], "f").inputs[0].name == "x"


def test_pyproject_tool_adcc(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.adcc]\nlang = "c"\n[tool.adcc.functions]\ng = "(x: f32) -> (y: f32)"\n')
    cfg = config.find(str(tmp_path))
    assert cfg.lang == "c" and set(cfg.functions) == {"g"}


def test_pyproject_without_tool_adcc_is_skipped(tmp_path):
    (tmp_path / "adcc.toml").write_text('[functions]\nf = "(x: f64) -> (y: f64)"\n')
    inner = tmp_path / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert config.find(str(inner)).path == str(tmp_path / "adcc.toml")


def test_bad_config_is_a_value_error(tmp_path):
    bad = tmp_path / "adcc.toml"
    bad.write_text('functions = ["f"]\n')
    with pytest.raises(ValueError, match="'functions' must be a table"):
        config.load(str(bad))
    bad.write_text('functions = {f = \n')
    with pytest.raises(ValueError, match="adcc.toml"):
        config.load(str(bad))
