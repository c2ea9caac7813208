"""Predictors rank fills for the `<mask>` holes of fix patterns (DESIGN §1, `mask` generator).

`load_predictor(spec)` is the one entry point: `"donors"` gives the weight-free donor predictor; anything else
is a Hugging Face masked language model, by hub name (from the local cache) or local folder, served by
`TransformersPredictor`. Both import their heavy parts lazily, so importing this package costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repairbot.errors import BadInput

if TYPE_CHECKING:
    from repairbot.models import Predictor

__all__ = ["load_predictor"]


def load_predictor(spec: str) -> Predictor:
    """The predictor named by `spec` (`Job.predictor`): "donors" or a masked LM name/path.

    The transformers predictor already re-scores each hole's donors with the model and adds its own free
    generations, so it alone gives "both together" (merged, deduplicated, ranked by mean log-probability).
    Raises EnvironmentProblem when the model cannot be loaded (not cached, `[ml]` extra missing).
    """
    spec = spec.strip()
    if not spec:
        raise BadInput("empty predictor name", hint='use "donors" or a masked LM name or folder')
    if spec == "donors":
        # Written alongside this package; imported lazily so neither side depends on the other at import.
        from repairbot.generate import donors

        factory = getattr(donors, "DonorPredictor", None)
        if factory is None:
            raise BadInput("the donor predictor is not available in this build")
        predictor: Predictor = factory()
        return predictor
    from repairbot.generate.predictors.transformers_lm import TransformersPredictor

    return TransformersPredictor.load(spec)
