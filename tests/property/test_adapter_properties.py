"""
Adapters never crash on damaged payloads: every failure is a `PayloadError`.

Hypothesis takes each shipped fixture payload, damages it at a random JSON path (deletes a
key, or puts a value of another type there), and checks that the adapter either builds
valid threads or raises `PayloadError` naming a JSON path (never a KeyError, TypeError,
AttributeError or RecursionError from inside).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from replyguard import Thread
from replyguard.adapters import threads_from_payload
from replyguard.errors import PayloadError

FIXTURES = Path(__file__).parents[1] / "data" / "payloads"
PLATFORMS = ("x", "bluesky", "mastodon")


def _fixtures() -> list[tuple[str, Path]]:
    return [(p, f) for p in PLATFORMS for f in sorted((FIXTURES / p).glob("*.json"))]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "at://",
            "did:plc:x",
            "2026-13-45T99:00:00Z",
            "RT @x:",
            "<script>x</script>",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _damage(payload: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    doc = copy.deepcopy(payload)
    if not path:
        return value
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "delete" and isinstance(parent, dict):
        del parent[last]
    elif how == "delete" and isinstance(parent, list):
        parent.pop(last)
    else:
        parent[last] = value
    return doc


def _convert(platform: str) -> Callable[[Any], list[Thread]]:
    def convert(payload: Any) -> list[Thread]:
        return threads_from_payload(payload, platform=platform, brand_handles=["@acme"])

    return convert


@pytest.mark.parametrize(
    ("platform", "fixture"), _fixtures(), ids=lambda v: getattr(v, "name", v)
)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_damaged_payload_converts_or_raises_payload_error(
    platform: str, fixture: Path, data: st.DataObject
) -> None:
    payload = json.loads(fixture.read_text(encoding="utf-8"))
    paths = _paths(payload)
    path = data.draw(st.sampled_from(paths), label="path")
    how = data.draw(st.sampled_from(["delete", "replace"]), label="how")
    value = data.draw(_ODD, label="value")
    damaged = _damage(payload, path, how, value)
    error: PayloadError | None = None
    threads: list[Thread] = []
    try:
        threads = _convert(platform)(damaged)
    except PayloadError as exc:
        error = exc
    if error is not None:
        event("refused")
        assert error.platform == platform
        assert error.path.startswith("$")
        assert str(error).startswith(f"{platform} payload: ")
        return
    event("converted")
    for thread in threads:
        assert isinstance(thread, Thread)
        assert thread.platform == platform


@pytest.mark.parametrize(
    ("platform", "fixture"), _fixtures(), ids=lambda v: getattr(v, "name", v)
)
@settings(max_examples=25)
@given(cut=st.floats(min_value=0.0, max_value=0.999))
def test_a_truncated_file_is_a_payload_error(
    platform: str, fixture: Path, cut: float
) -> None:
    text = fixture.read_text(encoding="utf-8").rstrip()
    with pytest.raises(PayloadError, match=r"not valid JSON"):
        _convert(platform)(text[: int(len(text) * cut)])
