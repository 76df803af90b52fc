"""The dispatcher: one Python Fire root object mapping model names to model classes.

For DAG authors, ``dispatch.argv(model, command, **params)`` returns the validated argument list that
makes the image run exactly that call.
"""

from typing import Any

__all__ = ["argv"]


def argv(model: str, command: str, **params: Any) -> list[str]:
    """Return the validated argument list for ``modelfleet MODEL COMMAND --param=value ...``."""
    from dispatch.commandline import argv as build

    return build(model, command, **params)
