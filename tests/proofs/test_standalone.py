"""The proof code runs with no Django and no settings: an outside expert can read and run it alone."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "reviewshield.proofs.merkle",
        "reviewshield.proofs.checkpoint",
        "reviewshield.proofs.timestamp",
        "reviewshield.proofs.bundle",
        "reviewshield.proofs.chatdigest",
    ],
)
def test_imports_without_django(module):
    code = f"import sys, {module}; assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": ""}, check=False
    )
    assert proc.returncode == 0, proc.stderr
