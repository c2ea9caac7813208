"""Masked-LM predictor (GAMMA's scheme): fills `<mask>` holes with a Hugging Face masked language model.

For each hole it proposes two sets of fills and ranks them on one scale, the mean log-probability of the
fill's tokens (GAMMA, "Revisiting Template-based APR via Mask Prediction"):

* donors: every `Hole.donors` text is written into the hole, its tokens are located by the tokenizer's
  offsets, and it is scored by **iterative left-to-right filling**: token i is scored with tokens < i
  revealed and tokens >= i masked, so the score is the chain-rule log-probability of the fill given that
  many masks;
* free generation: the hole becomes 1..`max_fill_tokens` mask tokens filled left to right with a small beam,
  the same factorization, so a generated fill and a donor with equal text get the same score.

Fills are merged, deduplicated by text (best score kept), filtered by the hole's kind (a name must be an
identifier, an expression must parse, ...) and cut to `limit`. All forward passes of one `rank` call are
batched across holes, donors and beams. The context around the hole is cut to the model's window with the hole
centred.

torch and transformers are imported only when a model is loaded (extra `[ml]`); loaded models are cached per
process. A hub name is read from the local Hugging Face cache; `HF_HUB_OFFLINE=1` (read at load time, not at
import) forbids any download. `REPAIRBOT_DEVICE` (cpu, cuda, cuda:1, ...) overrides the default device (cuda
when available).
"""

from __future__ import annotations

import ast
import keyword
import logging
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from repairbot.errors import BadInput, EnvironmentProblem
from repairbot.models import Hole

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str], _Loaded] = {}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_WORD_OPS = frozenset({"and", "or", "not", "in", "not in", "is", "is not"})
_TRUE = frozenset({"1", "true", "yes", "on"})
# A one-character fill whose tokens the masks replace (see _encode_masked).
_PROBE = "x"


@dataclass(frozen=True, slots=True)
class _Loaded:
    tokenizer: Any
    model: Any
    device: str
    window: int  # max tokens of one input, special tokens included
    head: tuple[int, ...]  # special tokens the tokenizer puts before a text ([CLS], <s>)
    tail: tuple[int, ...]  # and after it ([SEP], </s>)
    mask_id: int
    pad_id: int
    banned: tuple[int, ...]  # special tokens a fill may never contain


@dataclass(slots=True)
class _Query:
    """One forward pass: `ids` (with special tokens) and the position whose distribution is needed."""

    ids: list[int]
    pos: int
    target: int | None  # token whose log-probability is wanted (donor scoring); None: top-k (generation)


@dataclass(slots=True)
class _Beam:
    tokens: list[int]
    logprob: float


@dataclass(slots=True)
class _Search:
    """Free generation of `k` tokens for one hole: a masked context and the beams filling it left to right."""

    hole: int
    ids: list[int]  # context with special tokens and k mask tokens
    positions: list[int]  # where the k masks are
    beams: list[_Beam]


def _offline() -> bool:
    return (
        os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE
        or os.environ.get("TRANSFORMERS_OFFLINE", "").strip().lower() in _TRUE
    )


def _cache_dir() -> str | None:
    """The hub cache named by the environment now (huggingface_hub reads it once, at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def _device(requested: str | None) -> str:
    import torch

    wanted = requested or os.environ.get("REPAIRBOT_DEVICE", "").strip()
    if wanted:
        if wanted.startswith("cuda") and not torch.cuda.is_available():
            raise EnvironmentProblem(f"device {wanted!r} was asked for but CUDA is not available")
        return wanted
    return "cuda" if torch.cuda.is_available() else "cpu"


def _load(spec: str, device: str | None) -> _Loaded:
    try:
        import torch  # noqa: F401  (fail early with the install hint)
        from transformers import AutoModelForMaskedLM, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as err:
        raise EnvironmentProblem(
            f"the masked LM predictor needs torch and transformers ({_first_line(err)})",
            hint="pip install 'repairbot[ml]', or leave the predictor unset to use donors only",
        ) from err

    dev = _device(device)
    key = (spec, dev)
    with _LOCK:
        cached = _MODELS.get(key)
        if cached is not None:
            return cached

        path = Path(spec).expanduser()
        local = path.is_dir()
        # A hub name is "name" or "org/name"; anything else that looks like a path must exist.
        if not local and (spec.startswith(("./", "../", "/", "~")) or spec.count("/") > 1):
            raise EnvironmentProblem(f"masked LM folder {spec} does not exist")
        source = str(path) if local else spec
        # transformers reads HF_HUB_OFFLINE once at import; reading it here honours a value set later.
        local_only = local or _offline()
        # Progress bars would interleave with repairbot's own output (untyped in some transformers versions).
        cast(Any, hf_logging).disable_progress_bar()

        cache = _cache_dir()

        def from_pretrained(only_local: bool) -> tuple[Any, Any]:
            tok = AutoTokenizer.from_pretrained(source, local_files_only=only_local, cache_dir=cache)
            mlm = AutoModelForMaskedLM.from_pretrained(source, local_files_only=only_local, cache_dir=cache)
            return tok, mlm

        try:
            try:
                # The local cache first: a cached model never touches the network.
                tokenizer, model = from_pretrained(True)
            except OSError:
                if local_only:
                    raise
                tokenizer, model = from_pretrained(False)
        except (OSError, ValueError, KeyError) as err:
            if local:
                raise EnvironmentProblem(
                    f"cannot load a masked LM from {path}: {_first_line(err)}",
                    hint="the folder must hold a Hugging Face masked LM (config.json, weights, tokenizer)",
                ) from err
            raise EnvironmentProblem(
                f"masked LM {spec!r} is neither a local folder nor in the Hugging Face cache "
                f"({'offline' if local_only else 'download failed'}: {_first_line(err)})",
                hint="pass a local model folder, or fetch the model where there is network "
                "(huggingface-cli download NAME) and set HF_HOME to that cache",
            ) from err
        if tokenizer.mask_token_id is None:
            raise EnvironmentProblem(f"model {spec!r} has no mask token: it is not a masked language model")
        model.to(dev)
        model.eval()

        probe = tokenizer("x", add_special_tokens=False)["input_ids"]
        framed = tokenizer("x", add_special_tokens=True)["input_ids"]
        at = next(
            (i for i in range(len(framed) - len(probe) + 1) if framed[i : i + len(probe)] == probe),
            None,
        )
        head, tail = (framed[:at], framed[at + len(probe) :]) if at is not None else ([], [])

        window = int(getattr(model.config, "max_position_embeddings", 512) or 512)
        if getattr(model.config, "model_type", "") in {"roberta", "xlm-roberta", "camembert", "longformer"}:
            # RoBERTa-style position ids start after the padding index: 514 positions hold 512 tokens.
            window -= int(getattr(model.config, "pad_token_id", 1) or 1) + 1
        max_len = getattr(tokenizer, "model_max_length", None)
        if isinstance(max_len, int) and 0 < max_len < window:
            window = max_len
        pad = tokenizer.pad_token_id
        loaded = _Loaded(
            tokenizer=tokenizer,
            model=model,
            device=dev,
            window=window,
            head=tuple(head),
            tail=tuple(tail),
            mask_id=int(tokenizer.mask_token_id),
            pad_id=int(pad if pad is not None else tokenizer.mask_token_id),
            banned=tuple(sorted({int(i) for i in tokenizer.all_special_ids})),
        )
        _MODELS[key] = loaded
        log.info("loaded masked LM %s on %s (window %d tokens)", spec, dev, window)
        return loaded


def fill_fits_kind(kind: str, fill: str) -> bool:
    """Cheap compile filter for generated fills (GAMMA discards fills that cannot be compiled)."""
    if not fill or fill != fill.strip():
        return False
    if kind != "stmt" and "\n" in fill:
        return False
    if kind == "name":
        return (bool(_IDENT.match(fill)) and not keyword.iskeyword(fill)) or fill in {"True", "False", "None"}
    if kind in ("attr", "callable"):
        return bool(_DOTTED.match(fill)) and not any(keyword.iskeyword(p) for p in fill.split("."))
    if kind == "op":
        if fill in _WORD_OPS:
            return True
        return not any(c.isalnum() or c in "_'\"()[]{},;:#" for c in fill) and " " not in fill
    try:
        if kind == "stmt":
            ast.parse(fill)
        else:
            node = ast.parse(fill, mode="eval").body
            if kind == "literal" and not isinstance(node, (ast.Constant, ast.UnaryOp)):
                return False
    except (SyntaxError, ValueError):
        return False
    return True


class TransformersPredictor:
    """Ranks hole fills with a masked LM. Build with `TransformersPredictor.load(name_or_path)`."""

    name = "transformers"

    def __init__(
        self,
        loaded: _Loaded,
        *,
        spec: str = "",
        max_fill_tokens: int = 3,
        beam: int = 4,
        batch_size: int = 16,
        context_tokens: int | None = None,
        max_donors: int = 64,
        max_donor_tokens: int = 16,
    ) -> None:
        self._m = loaded
        self.spec = spec
        self.max_fill_tokens = max_fill_tokens
        self.beam = beam
        self.batch_size = batch_size
        # Shorter windows trade context for speed on CPU; never more than the model holds.
        self.window = min(loaded.window, context_tokens) if context_tokens else loaded.window
        self.max_donors = max_donors
        self.max_donor_tokens = max_donor_tokens

    @classmethod
    def load(cls, spec: str, *, device: str | None = None, **options: Any) -> TransformersPredictor:
        """Load (or reuse) the model named `spec`: a local folder or a hub name in the local cache.

        Defaults for the options come from the environment where set: REPAIRBOT_MLM_CONTEXT (tokens of context
        per input: fewer is faster on CPU), REPAIRBOT_MLM_BATCH (inputs per forward pass), REPAIRBOT_MLM_BEAM,
        REPAIRBOT_MLM_FILL_TOKENS (longest generated fill)."""
        for key, env in (
            ("context_tokens", "REPAIRBOT_MLM_CONTEXT"),
            ("batch_size", "REPAIRBOT_MLM_BATCH"),
            ("beam", "REPAIRBOT_MLM_BEAM"),
            ("max_fill_tokens", "REPAIRBOT_MLM_FILL_TOKENS"),
        ):
            value = os.environ.get(env, "").strip()
            if key not in options and value:
                if not value.isdigit() or int(value) < 1:
                    raise BadInput(f"{env} must be a positive whole number, not {value!r}")
                options[key] = int(value)
        return cls(_load(spec, device), spec=spec, **options)

    @property
    def device(self) -> str:
        return self._m.device

    # -- encoding -------------------------------------------------------------------------------------------

    def _frame(self, ids: list[int], start: int, end: int) -> tuple[list[int], int] | None:
        """Cut `ids` to the window keeping tokens [start, end) centred; add special tokens.

        Returns the framed ids and the index the fill starts at in them, or None when the fill alone is too
        long for the window."""
        room = self.window - len(self._m.head) - len(self._m.tail) - (end - start)
        if room < 0:
            return None
        left = min(start, room // 2)
        right = min(len(ids) - end, room - left)
        left = min(start, room - right)  # give what the suffix did not use back to the prefix
        cut = ids[start - left : end + right]
        return [*self._m.head, *cut, *self._m.tail], len(self._m.head) + left

    def _encode_masked(self, hole: Hole, k: int) -> tuple[list[int], list[int]] | None:
        """The context with the hole as `k` mask tokens: (ids, positions of the masks).

        The masks take the place of the tokens of a one-character probe fill, so the context is tokenized the
        way it is around a real fill (a byte-level BPE folds the space before the hole into the fill's first
        token; this does not depend on whether the tokenizer's mask token strips spaces)."""
        around = self._tokens_around(hole, _PROBE)
        if around is None:
            return None
        ids, start, end = around
        ids = [*ids[:start], *([self._m.mask_id] * k), *ids[end:]]
        framed = self._frame(ids, start, start + k)
        if framed is None:
            return None
        full, at = framed
        return full, list(range(at, at + k))

    def _encode_filled(self, hole: Hole, fill: str) -> tuple[list[int], list[int], list[int]] | None:
        """The context with `fill` written in: (ids, positions of the fill's tokens, the fill's token ids)."""
        around = self._tokens_around(hole, fill)
        if around is None or around[2] - around[1] > self.max_donor_tokens:
            return None
        ids, start, end = around
        framed = self._frame(ids, start, end)
        if framed is None:
            return None
        full, at = framed
        positions = list(range(at, at + end - start))
        return full, positions, [full[p] for p in positions]

    def _tokens_around(self, hole: Hole, fill: str) -> tuple[list[int], int, int] | None:
        """Token ids (no special tokens) of the context with `fill` in the hole, and the token range
        [start, end) that overlaps the fill's characters."""
        prefix, suffix = self._clip(hole)
        enc = self._m.tokenizer(prefix + fill + suffix, add_special_tokens=False, return_offsets_mapping=True)
        lo, hi = len(prefix), len(prefix) + len(fill)
        inside = [i for i, (s, e) in enumerate(enc["offset_mapping"]) if s < hi and e > lo and e > s]
        if not inside:
            return None
        return list(enc["input_ids"]), inside[0], inside[-1] + 1

    def _clip(self, hole: Hole) -> tuple[str, str]:
        # Tokens are rarely shorter than a character: this bounds tokenizer work on huge files.
        chars = self.window * 8
        return hole.prefix[-chars:], hole.suffix[:chars]

    # -- model ----------------------------------------------------------------------------------------------

    def _run(self, queries: Sequence[_Query], topk: int) -> list[tuple[float, list[int], list[float]]]:
        """For each query: (log p(target) or 0, top-k token ids, their log-probabilities), special tokens
        excluded. Batched by similar length to waste little padding."""
        import torch

        results: list[tuple[float, list[int], list[float]]] = [(0.0, [], [])] * len(queries)
        order = sorted(range(len(queries)), key=lambda i: len(queries[i].ids))
        banned = torch.tensor(self._m.banned, dtype=torch.long, device=self._m.device)
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                chunk = order[b : b + self.batch_size]
                width = max(len(queries[i].ids) for i in chunk)
                ids = torch.full((len(chunk), width), self._m.pad_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, i in enumerate(chunk):
                    q = queries[i].ids
                    ids[row, : len(q)] = torch.tensor(q, dtype=torch.long)
                    mask[row, : len(q)] = 1
                out = self._m.model(
                    input_ids=ids.to(self._m.device), attention_mask=mask.to(self._m.device)
                ).logits
                rows = torch.arange(len(chunk), device=out.device)
                cols = torch.tensor([queries[i].pos for i in chunk], device=out.device)
                logits = out[rows, cols].float()
                raw = torch.log_softmax(logits, dim=-1)
                logits[:, banned] = float("-inf")
                logp = torch.log_softmax(logits, dim=-1)
                k = min(topk, logp.shape[-1])
                top_lp, top_ids = logp.topk(k, dim=-1) if k > 0 else (logp[:, :0], logp[:, :0].long())
                for row, i in enumerate(chunk):
                    target = queries[i].target
                    lp = 0.0
                    if target is not None:
                        # A donor may hold a token generation never proposes (an unknown word): score it on
                        # the full distribution rather than dropping it.
                        lp = float(raw[row, target] if target in self._m.banned else logp[row, target])
                    results[i] = (lp, top_ids[row].tolist(), top_lp[row].tolist())
        return results

    # -- ranking --------------------------------------------------------------------------------------------

    def rank(self, holes: Sequence[Hole], limit: int) -> list[list[tuple[str, float]]]:
        if not holes or limit <= 0:
            return [[] for _ in holes]
        scored: list[dict[str, float]] = [{} for _ in holes]
        self._score_donors(holes, scored)
        self._generate(holes, scored)
        ranked: list[list[tuple[str, float]]] = []
        for hole, fills in zip(holes, scored, strict=True):
            donor_rank = {d: i for i, d in enumerate(hole.donors)}
            best = sorted(
                fills.items(), key=lambda kv: (-kv[1], donor_rank.get(kv[0], len(donor_rank)), kv[0])
            )
            ranked.append([(fill, round(score, 6)) for fill, score in best[:limit]])
        return ranked

    def _score_donors(self, holes: Sequence[Hole], scored: list[dict[str, float]]) -> None:
        queries: list[_Query] = []
        owners: list[tuple[int, str, int]] = []  # (hole, donor, number of tokens) per scored donor
        for h, hole in enumerate(holes):
            for donor in dict.fromkeys(hole.donors[: self.max_donors]):
                if not donor.strip():
                    continue
                enc = self._encode_filled(hole, donor)
                if enc is None:
                    continue
                ids, positions, targets = enc
                for i, (pos, target) in enumerate(zip(positions, targets, strict=True)):
                    step = list(ids)
                    for p in positions[i:]:
                        step[p] = self._m.mask_id
                    queries.append(_Query(step, pos, target))
                owners.append((h, donor, len(positions)))
        results = self._run(queries, topk=0)
        at = 0
        for h, donor, n in owners:
            mean = sum(lp for lp, _, _ in results[at : at + n]) / n
            at += n
            if not math.isfinite(mean):
                continue
            scored[h][donor] = max(mean, scored[h].get(donor, float("-inf")))

    def _generate(self, holes: Sequence[Hole], scored: list[dict[str, float]]) -> None:
        searches: list[_Search] = []
        for h, hole in enumerate(holes):
            longest = self.max_fill_tokens + (2 if hole.kind == "stmt" else 0)
            for k in range(1, longest + 1):
                enc = self._encode_masked(hole, k)
                if enc is not None:
                    searches.append(_Search(h, enc[0], enc[1], [_Beam([], 0.0)]))
        step = 0
        while True:
            active = [s for s in searches if step < len(s.positions)]
            if not active:
                break
            queries: list[_Query] = []
            for s in active:
                for beam in s.beams:
                    ids = list(s.ids)
                    for p, t in zip(s.positions, beam.tokens, strict=False):
                        ids[p] = t
                    queries.append(_Query(ids, s.positions[step], None))
            results = iter(self._run(queries, topk=self.beam))
            for s in active:
                grown: list[_Beam] = []
                for beam in s.beams:
                    _, top_ids, top_lp = next(results)
                    grown.extend(
                        _Beam([*beam.tokens, t], beam.logprob + lp)
                        for t, lp in zip(top_ids, top_lp, strict=True)
                        if lp != float("-inf")
                    )
                grown.sort(key=lambda b: -b.logprob)
                s.beams = grown[: self.beam]
            step += 1
        tok = self._m.tokenizer
        for s in searches:
            kind = holes[s.hole].kind
            for beam in s.beams:
                fill = tok.decode(beam.tokens, clean_up_tokenization_spaces=False).strip()
                if not fill_fits_kind(kind, fill):
                    continue
                mean = beam.logprob / len(beam.tokens)
                scored[s.hole][fill] = max(mean, scored[s.hole].get(fill, float("-inf")))
