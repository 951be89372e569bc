"""Input: "What does this eat?" aka Tokenization. The tokenizer (In [6]-[8])."""

import pytest


@pytest.mark.cell(6)
def test_the_vocabulary_has_50257_tokens(model, printed, bench):
    """In [6]: GPT2TokenizerFast(name_or_path='gpt2', vocab_size=50257, model_max_length=1024, ...)."""
    tok = model.tokenizer
    sizes = bench(lambda: {"vocab_size": tok.vocab_size, "len": len(tok), "model_max_length": tok.model_max_length})
    assert printed == sizes


@pytest.mark.cell(6)
@pytest.mark.parametrize("role", [pytest.param(r, id=f"the {r} is <|endoftext|>") for r in ("bos", "eos", "unk", "pad")])
def test_special_tokens(model, role, printed, bench):
    """In [6]: special_tokens={'bos_token': '<|endoftext|>', 'eos_token': '<|endoftext|>',
    'unk_token': '<|endoftext|>', 'pad_token': '<|endoftext|>'}, id 50256."""
    tok = model.tokenizer
    token = bench(lambda: getattr(tok, f"{role}_token"))
    assert printed == (token, tok.convert_tokens_to_ids(token))


@pytest.fixture(scope="module")
def vocab(model) -> dict[str, int]:
    """In [7]: vocab = gpt2.tokenizer.vocab, built once (the tokenizer makes a new 50257-entry dict each time)."""
    return model.tokenizer.vocab


# In [7] prints the vocabulary dict; these are its first entries, as printed.
SAMPLE = [
    "Ġanatomical", "Jerry", "Ġarises", "Ġcrabs", "Mem", "Ġfriends", "ĠSto", "rics", "ĠMau", "ĠOil",
    "Ġphysical", "ĠVolume", "âĵĺ", "ĠWillow", 'âĢĶ"', "ĠFall", "ĠDUI", "Ġtouches", "Ġinvest", "Ġutilize",
]  # fmt: skip


@pytest.mark.cell(7)
@pytest.mark.parametrize("token", [pytest.param(t, id=f"vocab[{t!r}] is as printed") for t in SAMPLE])
def test_vocabulary_entries(vocab, token, printed, bench):
    """In [7]: gpt2.tokenizer.vocab maps byte-level BPE strings to ids, e.g. 'Ġanatomical': 48631."""
    assert printed == bench(lambda: vocab[token])


@pytest.mark.cell(8)
def test_the_last_20_ids_of_the_sorted_vocabulary(vocab, printed, bench):
    """In [8]: sorted(vocab.items(), key=id)[-20:] runs from ('Revolution', 50237) to ('<|endoftext|>', 50256)."""
    vocab_sorted = bench(lambda: sorted(vocab.items(), key=lambda x: x[1]))
    assert printed == vocab_sorted[-20:]
