"""Build a tiny masked language model and tokenizer locally (no download), saved in the Hugging Face format.

The model is trained for a few hundred steps on CPU on a small code corpus in which some tokens always follow
a context (`a <= b`, `c == d`, `value = obj.field`), so a test can check that the predictor, loading it by
path through the same code users use, fills a hole with what the model learned.

    path = build_tiny_mlm(tmp_path / "mlm")                 # BERT + word-level tokenizer
    path = build_tiny_mlm(tmp_path / "mlm", arch="roberta") # RoBERTa + byte-level BPE (CodeBERT's kind)

Training takes a few seconds on one core. Needs torch, transformers and tokenizers (the `[ml]` extra).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_CORPUS: tuple[str, ...] = (
    "if a <= b :",
    "while a <= b :",
    "return a <= b",
    "ok = a <= b",
    "if c == d :",
    "while c == d :",
    "return c == d",
    "ok = c == d",
    "x = a + b",
    "y = c - d",
    "z = a * d",
    "value = obj.field",
    "print ( value )",
    "def check ( a , b ) :\n    return a <= b",
    "def same ( c , d ) :\n    return c == d",
    "for i in range ( n ) :",
    "total = total + i",
    "if x < y :",
    "if x > y :",
    "if x != y :",
    "lo , hi = 0 , n",
)

_WORD_PATTERN = r"\w+|==|!=|<=|>=|[^\w\s]"


def _bert_tokenizer(corpus: Sequence[str]) -> object:
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(_WORD_PATTERN), behavior="isolated")]
    )
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )


def _id(tok: Any, token: str) -> int:
    found = tok.token_to_id(token)
    assert found is not None, token
    return int(found)


def _roberta_tokenizer(corpus: Sequence[str]) -> object:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", _id(tok, "</s>")),
        ("<s>", _id(tok, "<s>")),
        trim_offsets=True,
        add_prefix_space=False,
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        # As in RoBERTa/CodeBERT: the mask swallows the space before it, like a "Ġ" token would.
        mask_token=AddedToken("<mask>", lstrip=True, rstrip=False, special=True),
        model_max_length=64,
    )


def build_tiny_mlm(
    dest: Path,
    *,
    corpus: Sequence[str] = DEFAULT_CORPUS,
    arch: str = "bert",
    steps: int = 300,
    seed: int = 0,
) -> Path:
    """Train a tiny masked LM on `corpus` and save model + tokenizer to `dest` (created). Returns `dest`."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, RobertaConfig, RobertaForMaskedLM

    random.seed(seed)
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the budget is one core; also keeps timings stable on a shared machine
    tokenizer = _bert_tokenizer(corpus) if arch == "bert" else _roberta_tokenizer(corpus)
    sizes: dict[str, Any] = {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }
    vocab = len(tokenizer)  # type: ignore[arg-type]
    pad_id = tokenizer.pad_token_id  # type: ignore[attr-defined]
    model: torch.nn.Module
    if arch == "bert":
        model = BertForMaskedLM(
            BertConfig(vocab_size=vocab, max_position_embeddings=64, pad_token_id=pad_id, **sizes)
        )
    elif arch == "roberta":
        model = RobertaForMaskedLM(
            RobertaConfig(
                vocab_size=vocab,
                max_position_embeddings=66,
                pad_token_id=pad_id,
                bos_token_id=tokenizer.bos_token_id,  # type: ignore[attr-defined]
                eos_token_id=tokenizer.eos_token_id,  # type: ignore[attr-defined]
                type_vocab_size=1,
                **sizes,
            )
        )
    else:
        raise ValueError(f"unknown arch {arch!r}: bert or roberta")

    encoded = [tokenizer(line)["input_ids"] for line in corpus]  # type: ignore[operator]
    specials = set(tokenizer.all_special_ids)  # type: ignore[attr-defined]
    mask_id = tokenizer.mask_token_id  # type: ignore[attr-defined]
    width = max(len(ids) for ids in encoded)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        batch = [random.choice(encoded) for _ in range(32)]
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        attn = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq)
            attn[row, : len(seq)] = 1
            content = [i for i, t in enumerate(seq) if t not in specials]
            # Mask a contiguous run of 1-3 tokens: multi-token holes are filled the same way at inference.
            run = random.randint(1, min(3, len(content)))
            start = random.randint(0, len(content) - run)
            for i in content[start : start + run]:
                labels[row, i] = seq[i]
                ids[row, i] = mask_id
        loss = model(input_ids=ids, attention_mask=attn, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    torch.set_num_threads(threads)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)  # type: ignore[attr-defined]
    return dest


if __name__ == "__main__":  # python tests/support/tiny_mlm.py DEST [bert|roberta]
    import sys

    print(build_tiny_mlm(Path(sys.argv[1]), arch=sys.argv[2] if len(sys.argv) > 2 else "bert"))
