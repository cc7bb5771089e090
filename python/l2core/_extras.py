"""Optional dependencies: an import that fails says which extra of the wheel to install."""

from __future__ import annotations

import importlib
from typing import Any


def require(module: str, extra: str) -> Any:
    """Import ``module``, or raise ImportError naming the ``l2core[extra]`` that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"l2core.{extra} needs the `{module}` package, which is not installed: pip install 'l2core[{extra}]'"
        ) from e
