"""Tokenizing the document's example text (In [9], [11], [12])."""

import pytest

from gpt2spec import document
from gpt2spec.radar import causes


# Under transformers 5 GPT-2's tokenizer adds a BOS of its own (cfg.tokenizer_prepends_bos is True
# there), so tokenizer.encode(text) starts with 50256; the document's (transformers 4) did not. The cause
# is transformers 5 applying the add_bos_token=True that TransformerLens always passed (causes.TRANSFORMERS_5).


@pytest.mark.cell(11)
@pytest.mark.versioned(
    causes.TRANSFORMERS_5.majors(),
    f"{causes.TRANSFORMERS_5}: encode() starts with the BOS 50256: TransformerLens hands GPT-2's tokenizer add_bos_token=True "
    f"({causes.HOOKED_ADD_BOS}), transformers 5 applies it (4.57.6 did not: measured), and TransformerLens 3 "
    f"requires transformers >= 5.4 ({causes.MIGRATING_TO_V3}, 'Dependency changes in 3.0')",
)
def test_the_text_encodes_to_44_ids(model, printed, bench):
    """In [11]: gpt2.tokenizer.encode(text) gives 44 ids, [1212, 318, 257, 1621, ..., 385, 6810]."""
    ids = bench(lambda: model.tokenizer.encode(document.TEXT))
    if causes.TRANSFORMERS_5.holds():
        assert ids[0] == model.tokenizer.bos_token_id, "under transformers 5 the tokenizer adds a BOS"
        ids = ids[1:]
    assert len(ids) == 44
    assert printed == ids


@pytest.mark.cell(12)
def test_the_string_tokens_start_with_endoftext(model, printed, bench):
    """In [12]: gpt2.to_str_tokens(text) is 45 strings, '<|endoftext|>' first, then 'This', ' is', ...
    with 'Quomatarus' split as ' Qu', 'om', 'atar', 'us'."""
    str_tokens = bench(lambda: model.to_str_tokens(document.TEXT))
    assert str_tokens[0] == "<|endoftext|>"
    assert printed == list(str_tokens)


@pytest.mark.cell(12)
def test_the_tokens_have_shape_1_by_45(model, printed, bench):
    """In [12]: tokens = gpt2.to_tokens(text); tokens.shape is torch.Size([1, 45]): the BOS is prepended."""
    tokens = bench(lambda: model.to_tokens(document.TEXT))
    assert tokens[0, 0].item() == model.tokenizer.bos_token_id
    assert printed == tokens.shape
