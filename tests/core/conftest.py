"""Fixtures for the core tests: the real captures' ground truth as decoded states."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from truth import TRUTH, state_of


@pytest.fixture(params=TRUTH, ids=[f"{name}-{i}" for name, i, _ in TRUTH])
def truth_state(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One flow state exactly as mitmproxy 11's get_state() returned it (tuples as lists)."""
    return copy.deepcopy(request.param[2])


@pytest.fixture
def tls_state() -> dict[str, Any]:
    """The TLS 1.3 flow with SNI, ALPN offers and certificate chains on both sides."""
    return state_of("tls_alpn_chain", 0)


@pytest.fixture
def plain_state() -> dict[str, Any]:
    """A plain TCP flow with 20 messages, marked ':grapes:'."""
    return state_of("echo_basic", 0)
