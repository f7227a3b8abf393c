"""Fixtures of the endpoint tests: the AesCoT fake server (``aescot_fakes.py``) plays every fault."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "aescot"))  # the one fake server's faults
from aescot_fakes import FakeChatServer  # noqa: E402


@pytest.fixture
def chat_server():
    """Factory: ``with chat_server(script=..., delay_s=...) as server: server.url``."""
    return FakeChatServer
