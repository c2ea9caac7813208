"""The fix corpus (bench/fixcorpus) keeps the held-out projects and the real-bug dev set out, and the data
learned from it (rules/learned.json, the rules' priors) says which corpus it came from."""

from __future__ import annotations

import json
from pathlib import Path

from repairbot.generate.patterns import load_rules
from tests.support.held_out import HELD_OUT

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "bench" / "fixcorpus"

# The ones BugsInPy holds that HELPERS.md's list names too (the shared list folds them into one).
BUGSINPY = {
    "ansible", "black", "cookiecutter", "fastapi", "httpie", "keras", "luigi", "matplotlib", "pandas",
    "pysnooper", "sanic", "scrapy", "spacy", "thefuck", "tornado", "tqdm", "youtube-dl",
}  # fmt: skip


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _listed() -> set[str]:
    text = (ROOT / "bench" / "held-out-projects.txt").read_text(encoding="utf-8")
    return {ln.strip().lower() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")}


def _name(repo: str) -> str:
    return repo.split("/")[-1].lower()


def test_the_scripts_held_out_list_covers_the_shared_one_and_bugsinpy() -> None:
    """The mining scripts read bench/held-out-projects.txt; the tests' list is tests/support/held_out.py."""
    assert not (HELD_OUT | BUGSINPY) - _listed()


def test_no_held_out_or_dev_set_project_in_the_corpus_or_its_coverage() -> None:
    corpus = _jsonl(CORPUS_DIR / "corpus.jsonl")
    assert len(corpus) >= 2000 and len({r["repo"] for r in corpus}) >= 50
    dev = {c["repo"].lower() for c in _jsonl(ROOT / "bench" / "realbugs" / "cases.jsonl")}
    assert dev
    coverage = [r for r in _jsonl(CORPUS_DIR / "coverage.jsonl") if "header" not in r]
    meta = json.loads((CORPUS_DIR / "corpus.meta.json").read_text(encoding="utf-8"))
    mined = {
        "corpus": [r["repo"] for r in corpus],
        "coverage": [r["repo"] for r in coverage],
        "meta": list(meta["heads"]),
    }
    for where, repos in mined.items():
        assert not {_name(r) for r in repos} & _listed(), where
        assert not {r.lower() for r in repos} & dev, where
    keys = {(r["repo"], r["sha"], r["path"]) for r in corpus}
    assert {(r["repo"], r["sha"], r["path"]) for r in coverage} == keys


def test_learned_data_names_its_corpus_and_the_rules_carry_its_priors() -> None:
    learned = json.loads((ROOT / "rules" / "learned.json").read_text(encoding="utf-8"))
    corpus = _jsonl(CORPUS_DIR / "corpus.jsonl")
    prov = learned["provenance"]
    assert prov["corpus_commits"] == len(corpus)
    assert prov["corpus_projects"] == len({r["repo"] for r in corpus})
    assert prov["script_version"] and learned["version"]
    rules = load_rules(ROOT / "rules" / "python")
    assert {r.id: r.prior for r in rules} == learned["priors"]
