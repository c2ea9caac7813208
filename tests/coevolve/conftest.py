from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from repairbot.bench.cases import make_repo

MakeRepo = Callable[[Mapping[str, str], Mapping[str, str]], tuple[Path, str]]


@pytest.fixture
def repo(tmp_path: Path) -> MakeRepo:
    """A git repository with `base` committed and the working tree changed to `tree`: (root, base rev)."""

    def make(base: Mapping[str, str], tree: Mapping[str, str]) -> tuple[Path, str]:
        root = tmp_path / "repo"
        rev = make_repo(root, base, tree)
        return root, rev

    return make
