"""The README's library example runs as written."""

import re
from pathlib import Path

README = Path(__file__).parents[3] / "README.md"


def test_library_example_runs_as_written(tmp_path, capsys):
    """The python block under 'Library use' executes and prints metrics and predictions."""
    section = README.read_text().split("## Library use", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, str(README), "exec"), {})  # the README's own example
    printed = capsys.readouterr().out
    assert "'auc'" in printed
    assert "churn_probability" in printed
    assert (tmp_path / "demo-store" / "churn" / "versions").is_dir()
