"""Property tests: any valid TCP/UDP flow state survives a round trip through the model."""

from __future__ import annotations

import copy
from typing import Any

from flow_strategies import flow_states, texts
from hypothesis import given, settings

from flowtui.core import Flow


@settings(max_examples=300, deadline=None)
@given(flow_states)
def test_state_round_trips(state: dict[str, Any]) -> None:
    flow = Flow.from_state(copy.deepcopy(state))
    again = flow.get_state()
    assert again == Flow.from_state(copy.deepcopy(again)).get_state()
    # Apart from tuple/list containers, the state is what was given.
    from truth import as_lists

    assert as_lists(again) == as_lists(state)


@settings(max_examples=100, deadline=None)
@given(flow_states, texts)
def test_backup_and_revert_restore_any_state(state: dict[str, Any], comment: str) -> None:
    flow = Flow.from_state(copy.deepcopy(state))
    before = flow.get_state()
    flow.backup()
    flow.comment = comment + "!"
    flow.messages.clear()
    flow.revert()
    assert flow.get_state() == before


@settings(max_examples=200, deadline=None)
@given(flow_states)
def test_random_states_equal_mitmproxys(state: dict[str, Any]) -> None:
    """The oracle: mitmproxy 11 builds the same state from the same input."""
    import pytest

    pytest.importorskip("mitmproxy.io")
    from mitmproxy import flow as mflow

    assert Flow.from_state(copy.deepcopy(state)).get_state() == (
        mflow.Flow.from_state(copy.deepcopy(state)).get_state()
    )
