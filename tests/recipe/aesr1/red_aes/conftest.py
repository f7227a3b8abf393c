"""Fixtures of the RED-Aes tests; the fake servers live in ``red_aes_fakes.py``."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tests are no package: make red_aes_fakes importable

from red_aes_fakes import FakeChatServer, FakeEditServer


@pytest.fixture(scope="module")
def servers():
    with FakeChatServer() as chat, FakeEditServer() as edit:
        yield chat, edit
