"""Pollen for Python: the Rust core through UniFFI.

The generated module (``_ffi.py``) and ``libpollen_ffi.so`` are copied next
to this file by ``scripts/bindings.sh``; this package only re-exports them.
"""

from ._ffi import *  # noqa: F401,F403
from ._ffi import __all__  # noqa: F401
