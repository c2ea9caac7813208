"""Tiny projects written to a temporary folder for tests."""

from __future__ import annotations

from pathlib import Path


def write_project(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


OFF_BY_ONE = {
    "calc.py": "def total(xs):\n    s = 0\n    for i in range(len(xs) - 1):\n"
    "        s += xs[i]\n    return s\n\n\ndef double(x):\n    return 2 * x\n",
    "test_calc.py": "from calc import double, total\n\n\n"
    "def test_total():\n    assert total([1, 2, 3]) == 6\n\n\n"
    "def test_total_empty():\n    assert total([]) == 0\n\n\ndef test_double():\n    assert double(2) == 4\n",
}
