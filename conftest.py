# The machinery lives in gpt2spec/plugin.py; this file only loads it for specs/ and tests/.
pytest_plugins = ["gpt2spec.plugin"]
