"""Dependency discovery, read statically from each metadata form, and the Python version choice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from repairbot.sandbox import deps
from tests.sandbox.conftest import write_tree

INDEXES = deps.Indexes(("https://pypi.org/simple", "https://mirror.example/simple"))


def _discover(root: Path, default: str = "3.11", **kw: object) -> deps.DependencySet:
    return deps.discover(root, default_python=default, indexes=INDEXES, **kw)  # type: ignore[arg-type]


def test_pep621_extras_follow_self_references(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "pyproject.toml": """
                [build-system]
                requires = ["hatchling"]
                build-backend = "hatchling.build"
                [project]
                name = "My_Pkg"
                dependencies = ["requests>=2"]
                [project.optional-dependencies]
                test = ["hypothesis", "my-pkg[fast]"]
                fast = ["ujson"]
                docs = ["sphinx"]
                dev = ["my.pkg[test]", "black"]
            """,
        },
    )
    found = _discover(root)
    assert found.requirements == ("hypothesis", "requests>=2", "ujson")
    assert found.dev == ("black",)
    assert found.project is not None and found.project.build_requires == ("hatchling",)
    assert found.project.name == "My_Pkg"


def test_dependency_groups_with_includes(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "pyproject.toml": """
                [project]
                name = "g"
                [dependency-groups]
                base = ["attrs"]
                test = ["pytest-mock", {include-group = "base"}, {include-group = "test"}]
                dev = ["ruff", {include-group = "test"}]
                lint = ["flake8"]
            """,
        },
    )
    found = _discover(root)
    assert found.requirements == ("attrs", "pytest-mock")
    assert found.dev == ("ruff",)
    assert found.project is not None and found.project.build_requires == ("setuptools>=40.8.0", "wheel")


def test_setup_cfg_extras_markers_and_file_directive(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "setup.cfg": """
                [metadata]
                name = cfgpkg
                classifiers =
                    Programming Language :: Python :: 3.10
                [options]
                python_requires = >=3.8
                install_requires = file: requirements/base.txt
                [options.extras_require]
                testing =
                    pytest-cov
                test =
                    tomli; python_version < "3.11"
            """,
            "requirements/base.txt": "click>=8  # a comment\n",
            "setup.py": "from setuptools import setup\nsetup()\n",
        },
    )
    found = _discover(root)
    assert set(found.requirements) == {"click>=8", "pytest-cov", 'tomli; python_version < "3.11"'}
    assert (found.python, found.python_source) == ("3.10", "requires-python >=3.8, classifiers")


def test_setup_py_is_read_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = write_tree(
        tmp_path / "p",
        {
            "setup.py": f"""
                import pathlib
                pathlib.Path({str(marker)!r}).write_text("setup.py ran")
                from setuptools import setup
                BASE = ["six"]
                TESTS = BASE + ["nose2"]
                setup(
                    name="legacy",
                    python_requires=">=3.6",
                    install_requires=open("requirements.txt").read().splitlines(),
                    tests_require=TESTS,
                    extras_require={{"test": ["mock"], "docs": ["sphinx"], "dev": compute()}},
                )
            """,
            "requirements.txt": "idna\n",
        },
    )
    found = _discover(root)
    assert not marker.exists()
    assert set(found.requirements) == {"idna", "six", "nose2", "mock"}
    assert any("setup.py: extras_require is computed" in p for p in found.problems)


def test_requirement_files_by_name_and_tox(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "requirements.txt": "-r requirements/common.txt\nrequests==2.31.0 --hash=sha256:abc\n",
            "requirements/common.txt": "-c constraints.txt\nurllib3\n",
            "requirements/constraints.txt": "urllib3<3\n",
            "requirements/docs.txt": "sphinx\n",
            "test-requirements.txt": "--index-url https://mirror.example/simple/\n-e .[extra]\nresponses\n",
            "requirements-dev.txt": "pre-commit\n",
            "tox.ini": """
                [tox]
                envlist = py311
                [testenv]
                deps =
                    -r{toxinidir}/requirements.txt
                    pytest-xdist
                    py311: freezegun
                    py38: backports.zoneinfo
                    django42: Django>=4.2,<5
                extras = toxextra
            """,
            "setup.py": "from setuptools import setup\nsetup(name='t', extras_require={'extra': ['pyyaml'], "
            "'toxextra': ['lxml']})\n",
        },
    )
    found = _discover(root)
    assert set(found.requirements) == {
        "requests==2.31.0", "urllib3", "responses", "pyyaml", "pytest-xdist", "freezegun", "lxml",
    }  # fmt: skip
    assert found.dev == ("pre-commit",)
    assert found.constraints == ("urllib3<3",)
    assert found.indexes == ("https://mirror.example/simple",)
    assert not found.problems, found.problems


def test_tox_native_toml(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "p",
        {
            "tox.toml": """
                [env_run_base]
                deps = ["pytest-mock", "-r {tox_root}/requirements/toxdeps.txt", "{env:EXTRA}"]
                extras = ["speed"]
                [env.test]
                deps = ["freezegun"]
                [env.docs]
                deps = ["sphinx"]
            """,
            "requirements/toxdeps.txt": "responses\n",
            "pyproject.toml": """
                [project]
                name = "t"
                [project.optional-dependencies]
                speed = ["orjson"]
            """,
        },
    )
    found = _discover(root)
    assert found.requirements == ("freezegun", "orjson", "pytest-mock", "responses")
    assert any("uses a substitution" in p for p in found.problems)


def test_refused_lines_are_named(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "repo",
        {
            "requirements-test.txt": """
                --extra-index-url https://evil.example/simple
                --trusted-host evil.example
                --find-links /tmp/wheels
                -e git+https://example.com/x.git#egg=x
                pkg @ https://example.com/pkg.tar.gz
                ./vendor/thing
                https://${TOKEN}@example.com/y.whl
                -r https://example.com/more.txt
                ok-package
            """,
        },
    )
    found = _discover(root)
    assert found.requirements == ("ok-package",)
    problems = "\n".join(found.problems)
    for fragment in ("evil.example/simple refused", "--trusted-host evil.example refused",
                     "--find-links refused", "git+https://example.com/x.git", "direct references",
                     "./vendor/thing", "environment variables are never expanded",
                     "https://example.com/more.txt"):  # fmt: skip
        assert fragment in problems, (fragment, problems)


def test_includes_stay_inside_the_repository(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("host-only-package\n")
    root = write_tree(
        tmp_path / "a" / "repo",
        {"requirements.txt": "-r /etc/passwd\n-r ../../outside.txt\n-c ../../outside.txt\nfine\n"},
    )
    (root / "sub").mkdir()
    (root / "sub" / "link.txt").symlink_to(tmp_path / "outside.txt")
    (root / "requirements-test.txt").write_text("-r sub/link.txt\n")
    found = _discover(root)
    assert found.requirements == ("fine",)
    problems = "\n".join(found.problems)
    assert "`/etc/passwd` refused" in problems and "`../../outside.txt` refused" in problems
    assert "`sub/link.txt` refused" in problems


def test_symlinked_requirement_file_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("leaked-secret-package\n")
    root = write_tree(tmp_path / "repo", {})
    (root / "requirements.txt").symlink_to(secret)
    (root / "pyproject.toml").symlink_to("/etc/shadow")
    found = _discover(root)
    assert found.requirements == ()
    assert any(p.startswith("requirements.txt:") and "refused" in p for p in found.problems)
    assert any(p.startswith("pyproject.toml:") for p in found.problems)
    assert found.project is None


@pytest.mark.parametrize(
    ("files", "default", "expected"),
    [
        ({".python-version": "3.12.4\n"}, "3.11", ("3.12", ".python-version (3.12.4)")),
        ({".python-version": "pypy3.9\n",
          "pyproject.toml": "[project]\nname='x'\nrequires-python='>=3.12'\n"},
         "3.11", ("3.13", "requires-python >=3.12")),
        ({"pyproject.toml": "[project]\nname='x'\nrequires-python='>=3.8,<3.11'\n"}, "3.11",
         ("3.10", "requires-python >=3.8,<3.11")),
        ({"pyproject.toml": "[project]\nname='x'\nrequires-python='>=3.9'\n"}, "3.11",
         ("3.11", "requires-python >=3.9")),
        ({"setup.py": "from setuptools import setup\nsetup(name='x', classifiers=["
                      "'Programming Language :: Python :: 3.9', "
                      "'Programming Language :: Python :: 3.10'])\n"},
         "3.11", ("3.10", "classifiers")),
        ({}, "3.12", ("3.12", "the worker's default")),
    ],
)  # fmt: skip
def test_python_version(
    tmp_path: Path, files: dict[str, str], default: str, expected: tuple[str, str]
) -> None:
    root = write_tree(tmp_path / "p", files)
    found = _discover(root, default=default)
    assert (found.python, found.python_source) == expected


def test_python_version_can_be_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "p", {".python-version": "3.12\n"})
    monkeypatch.setenv("REPAIRBOT_PYTHON", "3.10")
    assert _discover(root).python == "3.10"


def test_digest_follows_what_is_installed(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"requirements.txt": "attrs==23.1\n", "README.md": "x"})
    first = _discover(root).digest()
    (root / "README.md").write_text("y")
    assert _discover(root).digest() == first
    (root / "requirements.txt").write_text("attrs==23.2\n")
    assert _discover(root).digest() != first
    (root / "setup.py").write_text("from setuptools import setup\nsetup(name='p')\n")
    with_project = _discover(root).digest()
    (root / "setup.py").write_text("from setuptools import setup\nsetup(name='p', packages=[])\n")
    assert _discover(root).digest() != with_project


def test_repository_scope_is_the_remote_without_credentials(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "clone",
        {".git/config": '[remote "origin"]\n\turl = https://x-access-token:SECRET@github.com/o/r.git\n'},
    )
    assert deps.repository_scope(root) == "remote:https://github.com/o/r"
    plain = write_tree(tmp_path / "plain", {})
    assert deps.repository_scope(plain) == f"path:{os.path.realpath(plain)}"
