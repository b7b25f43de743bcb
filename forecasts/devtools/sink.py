"""Helpers shared by the benchmark and load-test commands (not used by the app itself)."""

from __future__ import annotations

import socket
from typing import Any


class CountingSink:
    """An aiosmtpd handler that accepts every message, counting them and keeping the last."""

    def __init__(self) -> None:
        self.count = 0
        self.last = b""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.last = envelope.original_content
        return "250 OK"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
