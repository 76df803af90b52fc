"""The README is a front page into the docs: every file it links to exists, and it stays a front page."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"


def test_every_file_the_readme_links_to_exists():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links to the docs"
    missing = [link for link in local if not (REPO / link).is_file()]
    assert missing == []


def test_the_readme_is_a_front_page():
    """What it is, the two commands, your own table, where to read on; the reference lives in the docs."""
    text = README.read_text()
    assert len(text.splitlines()) < 300
    for heading in ("## Quick start", "## Your own table in five commands", "## Install", "## Read on"):
        assert heading in text
