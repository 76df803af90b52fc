"""The library guide's example runs as written."""

import re
from pathlib import Path

GUIDE = Path(__file__).parents[3] / "docs" / "guides" / "library.md"


def test_library_example_runs_as_written(tmp_path, capsys):
    """The guide's first python block executes and prints metrics and predictions."""
    section = GUIDE.read_text()
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, str(GUIDE), "exec"), {})  # the guide's own example
    printed = capsys.readouterr().out
    assert "'auc'" in printed
    assert "churn_probability" in printed
    assert (tmp_path / "demo-store" / "churn" / "versions").is_dir()
