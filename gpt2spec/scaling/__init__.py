"""The scaling benchmark: how the cost of GPT-2 small's forward pass grows with the input, per device
and dtype (opt-in: ``pytest --scaling``; its pytest wiring is ``gpt2spec/plugin/scaling.py``).

Four implementations on the same tokens, alternating round by round (``gpt2spec/paired.py``):
Hugging Face's ``GPT2LMHeadModel`` with ``attn_implementation="eager"`` (the same arithmetic
TransformerLens runs) and with ``"sdpa"`` (Hugging Face's default: one fused
``scaled_dot_product_attention`` kernel, other rounding), TransformerLens's forward (4.x: the bridge
loads Hugging Face's model with eager attention and computes attention itself, matmul then softmax
then matmul, so its hooks see scores and patterns), and TransformerLens's ``run_with_cache``. For each
point: the median latency, tokens per second, the peak memory the call added (``memory.py``),
the paired ratio to Hugging Face's eager forward, and the achieved FLOP/s against the device's
published peak where it is known (``flops.py``). The grid is ``grid.py``, the measured points
``points.py``, the table and plot ``table.py``.
"""

