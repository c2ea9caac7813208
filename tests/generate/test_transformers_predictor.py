"""The masked-LM predictor on tiny models trained here, loaded by path through `load_predictor`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from repairbot.errors import EnvironmentProblem
from repairbot.generate.predictors import load_predictor
from repairbot.generate.predictors.transformers_lm import fill_fits_kind
from repairbot.models import Hole

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bert_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from tests.support.tiny_mlm import build_tiny_mlm

    return build_tiny_mlm(tmp_path_factory.mktemp("bert") / "model", arch="bert")


@pytest.fixture(scope="module")
def roberta_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from tests.support.tiny_mlm import build_tiny_mlm

    return build_tiny_mlm(tmp_path_factory.mktemp("roberta") / "model", arch="roberta")


def fills(ranked: list[tuple[str, float]]) -> list[str]:
    return [text for text, _ in ranked]


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_learned_operator_ranks_first_among_donors(arch: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(f"{arch}_path")
    pred = load_predictor(str(path))
    assert pred.name == "transformers"
    donors = ("==", "<", "<=", ">")
    # The corpus always writes `a <= b` and `c == d`: the right fill depends on the context, not on frequency.
    ab, cd = pred.rank([Hole("op", "if a ", " b :", donors), Hole("op", "if c ", " d :", donors)], 4)
    assert fills(ab)[0] == "<="
    assert fills(cd)[0] == "=="
    assert all(score <= 0.0 for _, score in ab)  # mean log-probabilities
    assert [s for _, s in ab] == sorted((s for _, s in ab), reverse=True)
    assert ab[0][1] > ab[1][1] + 1.0  # clearly learned, not a coin toss


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_free_generation_proposes_the_learned_token_without_donors(
    arch: str, request: pytest.FixtureRequest
) -> None:
    pred = load_predictor(str(request.getfixturevalue(f"{arch}_path")))
    (ranked,) = pred.rank([Hole("op", "while a ", " b :")], 5)
    assert fills(ranked)[0] == "<="
    assert all(fill_fits_kind("op", f) for f in fills(ranked))


def test_donor_and_generated_fill_share_one_scale(roberta_path: Path) -> None:
    pred = load_predictor(str(roberta_path))
    hole = Hole("op", "if a ", " b :")
    (generated,) = pred.rank([hole], 3)
    (with_donor,) = pred.rank([Hole("op", "if a ", " b :", ("<=",))], 3)
    assert dict(generated)["<="] == pytest.approx(dict(with_donor)["<="], abs=1e-4)


def test_multi_token_donors_scored_left_to_right(bert_path: Path) -> None:
    pred = load_predictor(str(bert_path))
    prefix = "def check ( a , b ) :\n    return "
    donors = ("c == d", "a == b", "a <= b", "b")
    (ranked,) = pred.rank([Hole("expr", prefix, "", donors)], 10)
    assert [f for f in fills(ranked) if f in donors] == ["a <= b", "a == b", "c == d", "b"]
    # Beam search over three masks finds the learned three-token expression on its own.
    (generated,) = pred.rank([Hole("expr", prefix, "")], 10)
    assert "a <= b" in fills(generated)


def test_context_is_cut_to_the_window_around_the_hole(bert_path: Path) -> None:
    pred = load_predictor(str(bert_path))
    noise = "x = a + b\n" * 200  # ~1000 tokens against a 64-token window
    (ranked,) = pred.rank([Hole("op", noise + "if a ", " b :\n" + noise, ("==", "<="))], 2)
    assert fills(ranked)[0] == "<="


def test_batching_does_not_change_scores(bert_path: Path) -> None:
    from repairbot.generate.predictors.transformers_lm import TransformersPredictor

    holes = [
        Hole("op", "if a ", " b :", ("==", "<=", "<")),
        Hole("op", "x = c ", "", ("==", "-")),
        Hole("expr", "def check ( a , b ) :\n    return ", "", ("a <= b", "a")),
    ]
    one = TransformersPredictor.load(str(bert_path), batch_size=1).rank(holes, 6)
    many = TransformersPredictor.load(str(bert_path), batch_size=32).rank(holes, 6)
    for a, b in zip(one, many, strict=True):
        assert fills(a) == fills(b)
        assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=1e-4)


def test_model_is_cached_per_process(bert_path: Path) -> None:
    from repairbot.generate.predictors.transformers_lm import TransformersPredictor

    first = TransformersPredictor.load(str(bert_path))
    second = TransformersPredictor.load(str(bert_path))
    assert first._m is second._m
    assert first.device in ("cpu", "cuda") or first.device.startswith("cuda")


def test_limit_and_empty_input(bert_path: Path) -> None:
    pred = load_predictor(str(bert_path))
    assert pred.rank([], 3) == []
    (ranked,) = pred.rank([Hole("op", "if a ", " b :", ("==", "<", "<=", ">"))], 2)
    assert len(ranked) == 2


def test_unknown_model_name_offline_is_an_environment_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(EnvironmentProblem, match="repairbot-test/no-such-mlm"):
        load_predictor("repairbot-test/no-such-mlm")


def test_hub_name_is_read_from_the_local_cache_offline(
    bert_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The layout huggingface_hub writes: models--ORG--NAME/{refs/main, snapshots/COMMIT/...}.
    commit = "0" * 40
    repo = tmp_path / "hub" / "models--repairbot-test--tiny-mlm"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for file in bert_path.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    pred = load_predictor("repairbot-test/tiny-mlm")
    (ranked,) = pred.rank([Hole("op", "if a ", " b :", ("==", "<="))], 2)
    assert fills(ranked)[0] == "<="


def test_missing_or_empty_model_folder_is_an_environment_problem(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    with pytest.raises(EnvironmentProblem, match="does not exist"):
        load_predictor(str(tmp_path / "nowhere" / "model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EnvironmentProblem, match="cannot load a masked LM"):
        load_predictor(str(tmp_path / "empty"))


def test_importing_the_predictors_does_not_import_torch() -> None:
    code = (
        "import sys, repairbot.generate.predictors, repairbot.generate.predictors.transformers_lm;"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'eager import'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_donors_spec_gives_the_donor_predictor() -> None:
    pred = load_predictor("donors")
    assert pred.name == "donors"
    (ranked,) = pred.rank([Hole("name", "return ", "", ("lo", "hi"))], 5)
    assert fills(ranked) == ["lo", "hi"]


@pytest.mark.parametrize(
    ("kind", "fill", "ok"),
    [
        ("op", "<=", True),
        ("op", "not in", True),
        ("op", "foo", False),
        ("name", "lo", True),
        ("name", "for", False),
        ("name", "a.b", False),
        ("attr", "self.items", True),
        ("expr", "a + (b", False),
        ("expr", "len(xs) - 1", True),
        ("literal", "0", True),
        ("literal", "-1", True),
        ("literal", "x", False),
        ("stmt", "return x", True),
        ("cond", "a <=", False),
        ("expr", "", False),
        ("expr", "a\nb", False),
    ],
)
def test_fill_fits_kind(kind: str, fill: str, ok: bool) -> None:
    assert fill_fits_kind(kind, fill) is ok
