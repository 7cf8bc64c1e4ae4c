"""The generated policy reference page never drifts from the policy schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from replyguard.policy import policy_json_schema

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "docs" / "gen_reference.py"
PAGE = ROOT / "docs" / "policies" / "reference.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_docs_gen_reference", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_matches_the_generator() -> None:
    expected = _generator().render()

    committed = PAGE.read_text(encoding="utf-8")

    assert committed == expected, (
        "docs/policies/reference.md is out of date; run `python docs/gen_reference.py`"
    )


def test_reference_lists_every_key_of_the_schema() -> None:
    schema = policy_json_schema()
    models = [schema, schema["$defs"]["BrandSpec"], schema["$defs"]["RuleSpec"]]

    text = _generator().render()

    for model in models:
        for key in model["properties"]:
            assert f"| `{key}` |" in text, key
