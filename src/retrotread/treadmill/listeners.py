"""Who hears a client's events: one list, registered and removed the same way everywhere."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

E = TypeVar("E")


class Listeners(Generic[E]):
    """Callbacks called synchronously, in order, with every event; `add` returns the remover."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[E], None]] = []

    def add(self, listener: Callable[[E], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def emit(self, event: E) -> None:
        for listener in list(self._listeners):
            listener(event)
