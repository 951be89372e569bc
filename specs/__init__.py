"""The claims, one file per section of the document, in its order (a package, so that the machinery's
tests and ``gpt2spec.faults`` can call a claim's own check: ``specs.test_09_induction``)."""
