"""adcc's layers import only downwards: adcc/ir (LLVM text) <- adcc/analysis <- adcc/ad <-
adcc/driver, lazily or not; and the AD context (adcc/ad/common.py), which every rule family
imports, does not import the synthesizers built on it (adcc/ad/rewrite.py hands them in)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "adcc"
LAYERS = ("adcc.ir", "adcc.analysis", "adcc.ad", "adcc.driver")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every adcc module a file imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("adcc"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("adcc"))
    return out


def layer(name: str) -> int | None:
    for k, prefix in enumerate(LAYERS):
        if name == prefix or name.startswith(prefix + "."):
            return k
    return None


def test_layers_import_only_downwards():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        own = layer(name)
        if own is None:
            continue
        for dep in sorted(imports_of(path)):
            theirs = layer(dep)
            if theirs is not None and theirs > own:
                wrong.append(f"{name} imports {dep}")
    assert not wrong, "\n".join(wrong)


SYNTHESIZERS = {"adcc.ad.forward", "adcc.ad.reverse", "adcc.ad.adjoint", "adcc.ad.augmented", "adcc.ad.replay",
                "adcc.ad.fwdsplit", "adcc.ad.rewrite", "adcc.ad.vector_reverse", "adcc.ad.split"}


def test_ad_context_does_not_import_the_synthesizers():
    deps = imports_of(PACKAGE / "ad" / "common.py")
    assert not deps & SYNTHESIZERS, sorted(deps & SYNTHESIZERS)


def test_rule_families_do_not_import_the_synthesizers():
    """A rule family that needs a derivative of another function asks the AD context for it
    (ctx.forward_function, ctx.reverse_functions, ctx.gradient_function): new families leave the
    synthesizers untouched, and the synthesizers read the families, never the other way round."""
    wrong = [f"{module_name(p)} imports {d}" for p in sorted((PACKAGE / "ad" / "rules").glob("*.py"))
             for d in imports_of(p) if d in SYNTHESIZERS or any(d.startswith(s + ".") for s in SYNTHESIZERS)]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_violation(tmp_path):
    """The walk finds imports inside functions too (a lazy import is still a dependency)."""
    f = tmp_path / "m.py"
    f.write_text("def g():\n    from adcc.driver.pipeline import run\n    return run\n")
    assert "adcc.driver.pipeline" in imports_of(f)


def test_rule_families_do_not_import_the_ad_context():
    """The rule families under adcc/ad/rules/ are data the engine reads: they take what they need
    from adcc/ad/support.py, never from adcc/ad/common.py (which reads them)."""
    wrong = [f"{module_name(p)} imports {d}" for p in sorted((PACKAGE / "ad" / "rules").glob("*.py"))
             for d in imports_of(p) if d == "adcc.ad.common" or d.startswith("adcc.ad.common.")]
    assert not wrong, "\n".join(wrong)
