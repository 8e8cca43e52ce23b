"""`MultiDict` against mitmproxy 11's on Hypothesis-generated fields and changes."""

from __future__ import annotations

import copy

import pytest
from http_oracle import observe, plain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowtui.core import MultiDict, MultiDictView

pytest.importorskip("mitmproxy.coretypes.multidict")
from mitmproxy.coretypes import multidict as mmultidict

pytestmark = pytest.mark.mitmproxy
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
texts = st.text(max_size=30)


@SETTINGS
@given(pairs=st.lists(st.tuples(texts, texts), max_size=5), key=texts)
def test_generated_multidicts_behave_the_same(pairs: list[tuple[str, str]], key: str) -> None:
    ours, theirs = MultiDict(pairs), mmultidict.MultiDict(pairs)
    for step in (
        lambda d: d.get_all(key),
        lambda d: d.add(key, "x"),
        lambda d: d.insert(1, key, "y"),
        lambda d: d.set_all(key, ["1", "2", "3"]),
        lambda d: d.set_all(key, []),
        lambda d: (list(d.keys()), list(d.values(multi=True)), len(d), repr(d)),
        lambda d: d.__delitem__(key),
        lambda d: d.get_state(),
    ):
        assert observe(lambda step=step: step(ours)) == observe(lambda step=step: step(theirs))
        assert plain(ours.fields) == plain(theirs.fields)


def test_view_reads_and_writes_through() -> None:
    store = {"fields": (("a", "1"), ("b", "2"))}

    def set_fields(value: tuple[tuple[str, str], ...]) -> None:
        store["fields"] = tuple(value)

    view: MultiDictView[str, str] = MultiDictView(lambda: store["fields"], set_fields)
    view["a"] = "x"
    view.add("c", "3")
    del view["b"]
    assert store["fields"] == (("a", "x"), ("c", "3"))
    detached = view.copy()
    detached["a"] = "y"
    assert isinstance(detached, MultiDict) and view["a"] == "x"
    assert MultiDict.from_state(copy.deepcopy([["k", "v"]])).get_state() == (("k", "v"),)
