"""What a stop reports as committed: the commits of the command it stopped, never those of earlier calls."""

import pytest

from shared.errors import Terminated
from shared.process import stopping


def commit(what: str) -> None:
    with stopping.committing(what, lambda: True) as done:
        done()


@pytest.mark.parametrize("before", [["a library call's version"], ["one", "two"], []])
def test_a_command_reports_only_its_own_commits(before):
    """Commits made outside a command (a notebook's train) or by the command before are not this one's."""
    for what in before:
        commit(what)  # outside any command's work: no command reports it
    with stopping.working():
        commit("the earlier command's version")
    try:
        with stopping.working():
            commit("this command's version")
            assert stopping.commits() == [{"what": "this command's version"}]
            stop = Terminated("terminated by SIGTERM before the command finished")
            assert "this command's version" in stopping.reported(stop)
            assert "earlier" not in stopping.reported(stop)
    finally:
        stopping.clear()
    assert stopping.commits() == []
