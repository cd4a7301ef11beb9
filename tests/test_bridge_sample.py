"""samples/bridge_fit/fit.py: a C physics model fitted from JAX through adcc.compile; the sample
checks its gradient against central differences and that the fit recovers the parameters."""
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax", reason="JAX is not installed (pip install -e '.[test]')")
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "bridge_fit" / "fit.py"


def test_bridge_fit_sample_loss_goes_down():
    proc = subprocess.run([sys.executable, str(SAMPLE)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    losses = [float(line.split()[3]) for line in proc.stdout.splitlines() if line.startswith("step")]
    assert len(losses) >= 10 and losses[-1] < 0.01 * losses[0]
    assert all(b <= a for a, b in zip(losses[1:], losses[2:]))  # decreasing after the first report
    assert proc.stdout.rstrip().endswith("PASS")
