"""A malicious repository: one fixture with every trick the attack tests of `tests/security/` try.

Each attack is written so that it SUCCEEDS (a test passes, a file appears, a secret shows) if repairbot lets
it through; the tests assert that it did not. Attack tests of other areas (dependency installs, the Action)
add their own files to `MaliciousRepo.files` or build on `malicious_repository`.

Layout (paths relative to the repository root, `victim/` is a directory beside it that nothing may touch):

- `lib.py` / `test_lib.py`: an ordinary off-by-one bug and its failing test, so repairs do happen;
- `escape.py` -> `../../…/victim/escape-target.py`: a relative symlink that leads out of the tree from
  wherever the tree is copied (enough `..` reach `/`, then the victim's absolute path);
- `absolute.py` -> `<victim>/absolute-target.py`: an absolute symlink;
- `outside` -> `../victim/dir`: a directory symlink that leads out of the tree;
- `test_steal_env.py`: passes only if a host variable that is not allow-listed reached the test;
- `ISSUE_CODE`: an issue body whose code block, if run, writes `MARKER` (its path is in the text).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

BUGGY_LIB = "def within(x, hi):\n    return x < hi\n"
FIXED_LINE = "    return x <= hi\n"
TEST_LIB = (
    "from lib import within\n\n\ndef test_edge():\n    assert within(3, 3)\n\n\n"
    "def test_inside():\n    assert within(1, 3)\n"
)
STOLEN_VARIABLE = "DATABASE_URL"  # no "secret" word in its name: a deny-list lets it through
STEAL_ENV_TEST = (
    "import os\n\n\ndef test_steal_env():\n"
    f"    assert os.environ.get({STOLEN_VARIABLE!r}, '').startswith('postgresql://')\n"
)


def issue_code(marker: Path) -> str:
    """An issue body whose snippet writes `marker` when it runs (and reproduces the bug, so it is used)."""
    return (
        "within(3, 3) is False, it should be True.\n\n```python\nimport pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran the issue code')\n"
        "from lib import within\nassert within(3, 3)\n```\n\n"
        '```\nTraceback (most recent call last):\n  File "lib.py", line 2, in within\n'
        "    return x < hi\nAssertionError\n```\n"
    )


@dataclass
class MaliciousRepo:
    root: Path  # the work tree
    victim: Path  # outside the tree: nothing may be written here
    marker: Path  # appears if the issue's code ran on this machine
    files: dict[str, str] = field(default_factory=dict)

    def victim_state(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.victim).as_posix(): p.read_bytes()
            for p in self.victim.rglob("*")
            if p.is_file()
        }


def malicious_repository(base: Path) -> MaliciousRepo:
    root = base / "repo"
    victim = base / "victim"
    (victim / "dir").mkdir(parents=True)
    (victim / "escape-target.py").write_text("# victim file\n")
    (victim / "absolute-target.py").write_text("# victim file\n")
    (victim / "dir" / "keep.txt").write_text("victim\n")
    files = {"lib.py": BUGGY_LIB, "test_lib.py": TEST_LIB, "test_steal_env.py": STEAL_ENV_TEST}
    root.mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).write_text(text)
    os.symlink("../" * 40 + str(victim / "escape-target.py").lstrip("/"), root / "escape.py")
    os.symlink(str(victim / "absolute-target.py"), root / "absolute.py")
    os.symlink("../victim/dir", root / "outside")
    return MaliciousRepo(root, victim, base / "marker-issue-code-ran", files)
