"""The ``l2`` console command installed with the wheel: the same CLI as the Rust ``l2`` binary."""

from __future__ import annotations

import signal
import sys
from typing import List, Optional

from . import _l2core


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``l2`` with ``argv`` (default ``sys.argv``) and exit with its status."""
    args = list(sys.argv if argv is None else argv)
    args[0] = "l2"
    if argv is None:
        # As a command, Ctrl-C must stop it at once like the native binary: Python's own handler would
        # only set a flag that the engine never looks at.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    code = _l2core.run_cli(args)
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
