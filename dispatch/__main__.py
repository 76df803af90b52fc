"""``python -m dispatch``: the same command line as ``modelfleet``."""

from shared.process import stopping

stopping.install()  # first of all: a signal while the imports below run is recorded, never raised inside them

from dispatch.cli import main  # noqa: E402 - after the handlers, on purpose

if __name__ == "__main__":
    raise SystemExit(main())
