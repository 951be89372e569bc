"""python -m gpt2spec.faults: the specs unbroken, then against each fault (see catching.py)."""

import sys

from gpt2spec.faults.catching import main

sys.exit(main())
