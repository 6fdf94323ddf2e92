"""The compiled kernels (:mod:`.kernels`), imported on first use."""

from __future__ import annotations

from types import ModuleType


def kernels() -> ModuleType:
    """The module of compiled kernels. Imported here, on first use, and nowhere else: loading numba and the
    compiled kernels takes about half a second, which a process that never traces (most management commands,
    every web request that does not trace) need not pay. This is not an import cycle: the kernels import
    nothing of Cordon."""
    from cordon.engine.tracing import kernels as compiled

    return compiled
