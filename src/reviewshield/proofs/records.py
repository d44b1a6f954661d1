"""The canonical bytes of a logged record. PURE.

JSON with sorted keys, no spaces, UTF-8 (not \\u escapes). The records only hold strings, integers,
booleans, nulls, lists and objects — no floats — so this is one exact byte string per record, and
anyone with the record can recompute its leaf hash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
