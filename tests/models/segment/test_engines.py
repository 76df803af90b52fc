"""segment is no boosted-trees model: it has one engine and nothing to compile, and says so before any work."""


def test_segment_has_no_compiled_engine_and_nothing_to_compile(tmp_path, modelfleet):
    for args in (
        ["segment", "score", "--engine=compiled"],
        ["segment", "compile"],
        ["segment", "train", "--compile=on"],
    ):
        done = modelfleet([*args, f"--store={tmp_path / 'store'}"])
        assert done.returncode == 64, done.stderr
        assert "not a boosted-trees model" in done.stderr
