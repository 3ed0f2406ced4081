"""numba flags in one place, so that every kernel is compiled the same way.

- ``fastmath`` is off: it lets LLVM assume there are no NaNs, which breaks NaN checks, and it
  reorders floating-point sums, which changes the last digits of reference values.
- No ``parallel=True`` / ``prange`` reductions in kernels whose result is a number: a reduction
  split over threads changes the last digits with the thread count, and reference results must
  be bit-reproducible. Parallelism comes from running cases side by side (Dask), not inside a kernel.
- ``cache=True`` writes compiled code to ``NUMBA_CACHE_DIR`` (or ``__pycache__``) so that later
  processes load it instead of compiling. Suites warm the cache once in the client before workers
  start (:func:`radrepro.suites.warm_jit`), so that workers never race to write it.
"""

from __future__ import annotations

import numba

JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")


def jit(*args, **kwargs):
    """``numba.njit`` with the project's flags; use as ``@jit`` or ``@jit(signature)``."""
    opts = {**JIT, **kwargs}
    if len(args) == 1 and callable(args[0]):
        return numba.njit(**opts)(args[0])
    return numba.njit(*args, **opts)
