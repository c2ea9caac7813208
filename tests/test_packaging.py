"""repairbot as `pip install repairbot` makes it: the wheel carries its rules, and repairs from there.

The wheel is built from a copy of the repository (`pip wheel . --no-deps`) and installed into a fresh
virtualenv with no access to the checkout; the dependencies come from this interpreter's site-packages through
a path entry (quick, and nothing is downloaded). The repair runs in a folder outside the repository.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "moving_average"
_IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".*_cache")

pytestmark = pytest.mark.slow


def _run(*argv: str | Path, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with repairbot installed from its wheel; returns the virtualenv's folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=_IGNORE)
    built = _run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", tmp / "wheels", cwd=src)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp / "wheels").glob("repairbot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "repairbot/_rules/schema.json" in names
    assert "repairbot/_rules/learned.json" in names
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("repairbot/_rules/python/")}
    assert {p.name for p in (REPO / "rules" / "python").glob("*.yml")} <= shipped

    venv = tmp / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    (purelib,) = venv.glob("lib/python3*/site-packages")
    # The dependencies, not repairbot: a path entry's own .pth files (an editable install's finder) are not
    # processed, and the virtualenv's site-packages comes first.
    (purelib / "_repairbot_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    inst = _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
                "--no-index", "-q", wheel)  # fmt: skip
    assert inst.returncode == 0, inst.stderr[-2000:]
    return venv


def test_the_sdist_carries_the_rules(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=_IGNORE)
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    proc = _run(sys.executable, "-c", code, tmp_path / "dist", cwd=src)
    assert proc.returncode == 0, proc.stderr[-2000:]
    sdist = tmp_path / "dist" / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"setup.py", "rules/schema.json", "rules/__init__.py"} <= names
    assert {f"rules/python/{p.name}" for p in (REPO / "rules" / "python").glob("*.yml")} <= names


def test_the_installed_wheel_repairs_the_example_from_outside_the_repository(
    installed: Path, tmp_path: Path
) -> None:
    where = _run(installed / "bin" / "python", "-c",
                 "import repairbot.generate.patterns as p; print(p.__file__); print(p.default_rules_dir()); "
                 "print(len(p.load_rules())); from repairbot.generate.learned import learned; "
                 "print(learned().source)", cwd=tmp_path)  # fmt: skip
    assert where.returncode == 0, where.stderr
    module, rules_dir, count, learned_file = where.stdout.split()
    assert module.startswith(str(installed)) and rules_dir.startswith(str(installed)), where.stdout
    assert learned_file.startswith(str(installed)) and learned_file.endswith("learned.json"), where.stdout
    assert int(count) == len(list((REPO / "rules" / "python").glob("*.yml")))

    project = tmp_path / "elsewhere" / "moving_average"
    shutil.copytree(EXAMPLE, project)
    proc = _run(installed / "bin" / "repairbot", "repair", project, "--sandbox", "local", "--budget", "120",
                "--quiet", cwd=tmp_path / "elsewhere")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("--- a/stats.py\n+++ b/stats.py\n")
    assert "+    for start in range(len(values) - window + 1):" in proc.stdout


def test_missing_rules_are_an_environment_error_not_no_fix(installed: Path, tmp_path: Path) -> None:
    broken = tmp_path / "venv"
    shutil.copytree(installed, broken, symlinks=True)
    (purelib,) = broken.glob("lib/python3*/site-packages")
    shutil.rmtree(purelib / "repairbot" / "_rules")
    # The console script names its own interpreter: run the copy's module instead.
    project = tmp_path / "moving_average"
    shutil.copytree(EXAMPLE, project)
    proc = _run(broken / "bin" / "python", "-m", "repairbot", "repair", project, "--sandbox", "local",
                "--budget", "60", "--quiet", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "rules" in proc.stderr and "Traceback" not in proc.stderr
    assert "REPAIRBOT_RULES" in proc.stderr
