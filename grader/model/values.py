"""What the child returned for one step of a call plan, as the parent rebuilt it from the reply."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Value:
    """What the child returned for one step: its kind, its Python type and its arrays."""

    kind: str
    """array, scalar, list, none, other or missing; loop, and its columns stacked or steps."""
    type: str
    arrays: tuple[np.ndarray, ...] = ()
    items: tuple[Value, ...] = ()
    """For a list: one single-array Value per element. For a loop: one column per body step, each
    ``stacked`` (one array, iterations first) or ``steps`` (one Value per iteration)."""
    count: int = 0
    """For a loop: the iterations that completed."""

    def item(self, i: int) -> Value:
        return self.items[i]
