"""Fixtures: sandboxes on free loopback ports with a manual clock, and clients built from the references."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sandbox_doc_requests import CryptomusClient, Pay3Client, Sandbox

from treasury_app.sandbox import ManualClock, SandboxConfig, start_in_background


@pytest.fixture
def start_sandbox() -> Iterator[Any]:
    """Start sandboxes with config overrides (always on a free port, with a manual clock); stops them all."""
    started: list[Sandbox] = []

    def start(**overrides: Any) -> Sandbox:
        clock = ManualClock()
        running = start_in_background(replace(SandboxConfig(port=0), **overrides), clock=clock)
        box = Sandbox(running, clock, httpx.Client(base_url=running.base_url, timeout=10))
        started.append(box)
        return box

    yield start
    for box in started:
        box.http.close()
        box.running.stop()


@pytest.fixture
def sandbox(start_sandbox: Any) -> Sandbox:
    return start_sandbox()


@pytest.fixture
def cryptomus(sandbox: Sandbox) -> CryptomusClient:
    return sandbox.cryptomus


@pytest.fixture
def pay3(sandbox: Sandbox) -> Pay3Client:
    return sandbox.pay3
