# The machinery lives in gpt2spec/plugin/, loaded by pyproject.toml's addopts (-p gpt2spec.plugin)
# so that its options are known before pytest reads the command line. This file marks the rootdir.
