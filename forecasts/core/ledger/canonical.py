"""The canonical JSON of a ledger entry and the hash rule (pure: no Django).

``docs/LEDGER.md`` documents both, with a verifier anyone can run on an export.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: The "previous hash" of a chain's first entry.
GENESIS_HASH = "0" * 64


def canonical_json(document: dict[str, Any]) -> str:
    """Keys sorted, no insignificant white space, UTF-8 text as is, floats as Python's
    shortest round-trip repr; ``NaN`` and infinities refused."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def chain_hash(previous_hash: str, payload: str) -> str:
    """``sha256(previous hash (64 hex characters) + canonical JSON)``, UTF-8, hex."""
    return hashlib.sha256((previous_hash + payload).encode("utf-8")).hexdigest()
