"""
Test helpers shipped with replyguard, for its own tests and for yours.

- `replyguard.testing.store_conformance`: the tests every `Store` backend must pass,
  and a Hypothesis state machine that checks a backend against a reference model.

Importing this package imports nothing heavy: pytest and Hypothesis are imported by
the modules that need them.
"""

from __future__ import annotations

__all__: list[str] = []
