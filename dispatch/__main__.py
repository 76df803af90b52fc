"""``python -m dispatch``: the same command line as ``modelfleet``."""

from dispatch.cli import main

raise SystemExit(main())
