"""The LLM generator against a real local HTTP server speaking the OpenAI chat API with scripted replies."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repairbot.generate.llm import LLMGenerator, apply_diff, chat_url, enclosing_target
from repairbot.models import (
    Budget,
    Candidate,
    GenerationContext,
    Job,
    Location,
    Snapshot,
    TestOutcome,
    Verdict,
)
from repairbot.plugins import load_generator
from tests.support.openai_server import Scripted, ScriptedOpenAI, reply

CALC = (
    "# calc: small helpers\n"
    "import math\n"
    "\n"
    "\n"
    "def total(xs):\n"
    "    s = 0\n"
    "    for i in range(len(xs) - 1):  # walk the list\n"
    "        s += xs[i]\n"
    "    return s\n"
    "\n"
    "\n"
    "def double(x):\n"
    "    return 2 * x\n"
)
TESTS = (
    "from calc import double, total\n\n\n"
    "def test_total():\n    assert total([1, 2, 3]) == 6\n\n\n"
    "def test_double():\n    assert double(2) == 4\n"
)
LONGREPR = (
    "def test_total():\n>       assert total([1, 2, 3]) == 6\nE       assert 3 == 6\n"
    "E        +  where 3 = total([1, 2, 3])\n\ntest_calc.py:5: AssertionError"
)
FIXED_TOTAL = (
    "def total(xs):\n    s = 0\n"
    "    for i in range(len(xs)):  # walk the list\n        s += xs[i]\n    return s\n"
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REPAIRBOT_LLM_MODEL", "REPAIRBOT_LLM_KEY", "OPENAI_API_KEY", "REPAIRBOT_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def project(root: Path, calc: str | bytes = CALC) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_bytes(calc.encode() if isinstance(calc, str) else calc)
    (root / "test_calc.py").write_text(TESTS)
    return root


def context(root: Path, url: str | None, **kw: object) -> GenerationContext:
    args: dict[str, object] = {
        "job": Job(root=root, llm_url=url, job_id="t1"),
        "snapshot": Snapshot(root),
        "locations": (Location("calc.py", 7, 0.9, ("spectrum",)), Location("calc.py", 8, 0.5)),
        "source_files": ("calc.py",),
        "test_files": ("test_calc.py",),
        "failing": (
            TestOutcome(
                "test_calc.py::test_total",
                "failed",
                "AssertionError: assert 3 == 6",
                LONGREPR,
                (("calc.py", 9),),
            ),
        ),
        "limit": 10,
    }
    args.update(kw)
    return GenerationContext(**args)  # type: ignore[arg-type]


def applied(root: Path, cand: Candidate) -> bytes:
    (edit,) = cand.edits
    data = (root / edit.path).read_bytes()
    return data[: edit.start] + edit.text + data[edit.end :]


def test_prompt_holds_failure_and_function_and_reply_becomes_a_validating_candidate(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    answer = f"The loop skips the last element.\n\n```python\n{FIXED_TOTAL}```\n"
    with ScriptedOpenAI([reply(answer)]) as server:
        (cand,) = LLMGenerator().generate(context(root, server.url))
    (req,) = server.chat_requests
    assert req.path == "/v1/chat/completions"
    prompt = req.prompt
    assert "test_calc.py::test_total" in prompt and "E       assert 3 == 6" in prompt
    assert "   5 | def total(xs):" in prompt and "   7 |     for i in range(len(xs) - 1):" in prompt
    assert "def double" not in prompt  # only the suspicious function
    assert req.body["model"] == "scripted-model"  # discovered from /v1/models
    assert cand.generator == "llm" and cand.kind == "code" and cand.rule is None
    assert cand.line == 7
    patched = applied(root, cand)
    assert patched == CALC.replace("range(len(xs) - 1)", "range(len(xs))").encode()
    ast.parse(patched)
    # The patch really fixes the project: its tests pass on it (and fail on the original).
    check = "import test_calc; test_calc.test_total(); test_calc.test_double()"
    fixed = project(tmp_path / "fixed", patched)
    assert subprocess.run([sys.executable, "-c", check], cwd=fixed, capture_output=True).returncode == 0
    assert subprocess.run([sys.executable, "-c", check], cwd=root, capture_output=True).returncode != 0


@pytest.mark.parametrize(
    "answer",
    [
        # the whole class: only the method is taken
        "```python\nclass Acc:\n    @property\n    def total(self):\n"
        '        """Sum of the items."""\n        return sum(self.items)\n```',
        # the method alone, at column 0
        '```python\n@property\ndef total(self):\n    """Sum of the items."""\n'
        "    return sum(self.items)\n```",
    ],
)
def test_method_reply_is_reindented_and_line_endings_kept(tmp_path: Path, answer: str) -> None:
    calc = (
        "class Acc:\r\n"
        "    def __init__(self):\r\n"
        "        self.items = []\r\n"
        "\r\n"
        "    @property\r\n"
        "    def total(self):\r\n"
        '        """Sum of the items."""\r\n'
        "        return sum(self.items[1:])\r\n"
        "\r\n"
        "    def add(self, x):\r\n"
        "        self.items.append(x)\r\n"
    )
    root = project(tmp_path / "p", calc.encode())
    ctx = context(root, None, locations=(Location("calc.py", 8, 1.0),))
    with ScriptedOpenAI([reply(answer)]) as server:
        (cand,) = LLMGenerator(server.url).generate(ctx)
    assert "   5 |     @property" in server.chat_requests[0].prompt
    assert applied(root, cand) == calc.replace("self.items[1:]", "self.items").encode()


def test_feedback_of_the_previous_round_is_in_the_next_prompt(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    wrong = "```python\ndef total(xs):\n    return sum(xs[1:])\n```"
    with ScriptedOpenAI([reply(wrong), reply(f"```python\n{FIXED_TOTAL}```")]) as server:
        gen = LLMGenerator(server.url)
        (first,) = gen.generate(context(root, None))
        verdict = Verdict(
            first,
            "failed",
            still_failing=("test_calc.py::test_total",),
            broken=("test_calc.py::test_double",),
            detail="AssertionError: assert 5 == 6",
        )
        (second,) = gen.generate(context(root, None, round=2, feedback=(verdict,)))
    one, two = server.chat_requests
    assert "Earlier attempts" not in one.prompt
    assert "round 2" in two.prompt
    assert "still failing: test_calc.py::test_total" in two.prompt
    assert "newly failing: test_calc.py::test_double" in two.prompt
    assert "assert 5 == 6" in two.prompt
    assert "return sum(xs[1:])" in two.prompt  # the code it proposed before
    assert b"range(len(xs))" in applied(root, second)


@pytest.mark.parametrize(
    "step",
    [
        Scripted(status=500, raw=b'{"error": "boom"}'),
        Scripted(raw=b"this is not json"),
        Scripted(raw=b'{"choices": []}'),
        Scripted(raw=b'{"choices": [{"message": {"role": "assistant"}}]}'),
        reply("I think the bug is in the loop, but I cannot show code."),
        reply("```python\ndef total(xs):\n    return (\n```"),  # does not parse
        reply("```python\ndef summe(xs):\n    return sum(xs)\n```"),  # no such function shown
        reply(f"```python\n{CALC[CALC.index('def total') : CALC.index('def double')]}```"),  # unchanged
        reply("```diff\n--- a/calc.py\n+++ b/calc.py\n@@ -40,2 +40,2 @@\n-    nothing here\n+    x\n```"),
    ],
)
def test_bad_replies_give_no_candidates_and_one_warning(
    tmp_path: Path, step: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    root = project(tmp_path / "p")
    with caplog.at_level(logging.WARNING, logger="repairbot.generate.llm"), ScriptedOpenAI([step]) as server:
        assert LLMGenerator(server.url).generate(context(root, None)) == []
    assert len(server.chat_requests) == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()


def test_unreachable_endpoint_and_timeout_give_no_candidates(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    with ScriptedOpenAI() as server:
        dead = server.url
    assert LLMGenerator(dead).generate(context(root, None)) == []
    with ScriptedOpenAI([Scripted(content="late", delay_s=3.0)]) as server:
        started = time.monotonic()
        assert LLMGenerator(server.url, model="m", timeout_s=0.5).generate(context(root, None)) == []
        assert time.monotonic() - started < 2.5


def test_key_is_sent_only_as_bearer_header_and_never_follows_redirects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPAIRBOT_LLM_KEY", "sk-test-secret")
    monkeypatch.setenv("REPAIRBOT_LLM_MODEL", "my-model")
    root = project(tmp_path / "p")
    with ScriptedOpenAI([reply(f"```python\n{FIXED_TOTAL}```")]) as server:
        assert len(LLMGenerator(server.url + "/v1/").generate(context(root, None))) == 1
    (req,) = server.requests  # the model came from the environment: no /v1/models lookup
    assert req.headers["authorization"] == "Bearer sk-test-secret"
    assert req.body["model"] == "my-model"
    assert "sk-test-secret" not in req.prompt and "sk-test-secret" not in str(req.body)
    assert [k for k, v in req.headers.items() if "sk-test-secret" in v] == ["authorization"]

    with ScriptedOpenAI([reply(f"```python\n{FIXED_TOTAL}```")]) as elsewhere:
        moved = Scripted(status=307, raw=b"", headers={"Location": elsewhere.url + "/v1/chat/completions"})
        with ScriptedOpenAI([moved]) as server:
            assert LLMGenerator(server.url).generate(context(root, None)) == []
        assert elsewhere.requests == []


def test_openai_api_key_is_the_fallback_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other")
    root = project(tmp_path / "p")
    with ScriptedOpenAI([reply("no code")]) as server:
        LLMGenerator(server.url, model="m").generate(context(root, None))
    assert server.chat_requests[0].headers["authorization"] == "Bearer sk-other"


def test_no_url_or_too_many_turns_sends_nothing(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    assert LLMGenerator().generate(context(root, None)) == []  # the default: no LLM
    with ScriptedOpenAI() as server:
        assert LLMGenerator(server.url, max_turns=2).generate(context(root, None, round=3)) == []
        assert LLMGenerator(server.url).generate(context(root, None, locations=(), failing=())) == []
        budget = Budget(deadline=time.monotonic() + 0.5)
        assert LLMGenerator(server.url).generate(context(root, None, budget=budget)) == []
    assert server.requests == []


def test_diff_reply_becomes_a_minimal_edit(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    diff = (
        "```diff\n--- a/calc.py\n+++ b/calc.py\n@@ -6,3 +6,3 @@ def total(xs):\n     s = 0\n"
        "-    for i in range(len(xs) - 1):  # walk the list\n+    for i in range(len(xs)):  # walk the list\n"
        "         s += xs[i]\n```"
    )
    with ScriptedOpenAI([reply(diff)]) as server:
        (cand,) = LLMGenerator(server.url, model="m").generate(context(root, None))
    (edit,) = cand.edits
    assert edit.text == b"    for i in range(len(xs)):  # walk the list\n"
    assert cand.line == 7
    assert applied(root, cand) == CALC.replace("range(len(xs) - 1)", "range(len(xs))").encode()


def test_several_choices_give_several_candidates(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    alt = "```python\ndef total(xs):\n    return sum(xs)\n```"
    with ScriptedOpenAI([reply(f"```python\n{FIXED_TOTAL}```", alt, alt)]) as server:
        cands = LLMGenerator(server.url, model="m", samples=3).generate(context(root, None))
    assert server.chat_requests[0].body["n"] == 3
    assert len(cands) == 2  # the repeated alternative is deduplicated
    assert cands[0].score >= cands[1].score


def test_helpers() -> None:
    assert chat_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"
    src = CALC.encode()
    target = enclosing_target("calc.py", src, 8)
    assert target is not None and target.name == "total" and target.first_line == 5
    top = enclosing_target("calc.py", src, 2)
    assert top is not None and top.name is None and src[top.start : top.end] == b"import math"
    with pytest.raises(ValueError, match="cannot be edited"):
        apply_diff("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n", {"calc.py": src})


def test_registered_by_name() -> None:
    assert isinstance(load_generator("llm"), LLMGenerator)
