"""A stand-in for ``python -m gpt2spec.radar.versus worker``: the same protocol, no model. Its one argument
is how much slower than 1.0 it is ("1.3"), or "dies" (it stops after saying it is ready). Each
request it gets is appended, as received, to the file VERSUS_FAKE_LOG names."""

import json
import os
import sys

slower = sys.argv[1]
say = lambda answer: print(json.dumps(answer), flush=True)  # noqa: E731
say({
    "environment": {"transformer_lens": {"1.0": "3.9.0", "1.3": "4.3.0"}.get(slower, "4.0.0"), "torch": "2.13.0", "transformers": "5.24.0", "python": "3.11.7"},
    "conditions": {"device_name": "a fake CPU", "threads": "1 torch threads (fake)"},
    "load_s": 1.5, "peak_after_load_bytes": 2 << 30, "tokens": list(range(45)),
})  # fmt: skip
if slower == "dies":
    sys.exit(1)
calls = 0
for line in sys.stdin:
    request = json.loads(line)
    with open(os.environ["VERSUS_FAKE_LOG"], "a") as log:
        log.write(json.dumps({"side": slower, **request}) + "\n")
    if request["op"] == "quit":
        break
    calls += 1
    base = len(request["tokens"]) * (2.0 if request["work"] == "run_with_cache" else 1.0)
    wobble = 1 + 0.01 * (calls % 5)  # a little noise, the same on both sides' n-th call
    if request["op"] == "call":
        say({"seconds": base * float(slower) * wobble / 1000})
    else:
        say({"peak_bytes": 3 << 30, "added_bytes": int(base * 1e6 * wobble)})  # the same memory on both sides
