"""Checks of scoring's input contract (rows, ids and index kept, columns matched by name, a missing or
renamed feature refused, the label ignored, unseen levels counted) and of streaming and shards, which must
give exactly what scoring the whole frame gives."""

import functools
from pathlib import Path

from shared.conformance.helpers import _expect, _outputs, _sample, _trained, _unlabelled
from shared.contract import derived
from shared.errors import BadData
from shared.families.model import Model


def check_scores_every_row(model_cls: type[Model], workdir: Path) -> None:
    """Scoring a frame returns one finite prediction per row, keyed by the id column, in input order, indexed
    like the input frame (an id kept as the index stays the index)."""
    import numpy as np

    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=7, rows=300)
    frame.index = np.random.default_rng(7).permutation(len(frame)) * 3 + 1000  # not 0..n-1
    predictions = model.score(frame)["predictions"]
    assert len(predictions) == len(frame), f"{len(frame)} rows in, {len(predictions)} predictions out"
    assert list(predictions[model_cls.id_column]) == list(frame[model_cls.id_column]), "ids out of order"
    assert predictions[_outputs(model_cls)].notna().all().all(), "some predictions are missing"
    assert predictions.index.equals(frame.index), "predictions are not indexed like the input frame"
    by_id = model.score(frame.set_index(model_cls.id_column))["predictions"]
    assert by_id.index.equals(frame.set_index(model_cls.id_column).index), "an id kept as the index was lost"
    assert by_id[_outputs(model_cls)].to_numpy().tolist() == predictions[_outputs(model_cls)].to_numpy().tolist()


def check_rejects_missing_feature(model_cls: type[Model], workdir: Path) -> None:
    """A frame lacking a feature is refused with BadData naming it, for scoring and for training."""
    model, _ = _trained(model_cls, workdir)
    for feature in [*derived.raw(model_cls, model_cls.numeric)[:1], *derived.raw(model_cls, model_cls.categorical)[:1]]:
        for command, frame in (
            (model.score, _unlabelled(model_cls, 5, 100)),
            (model.train, _sample(model_cls, 5, 100)),
        ):
            _expect(BadData, functools.partial(command, frame.drop(columns=[feature])), feature)


def check_matches_columns_by_name(model_cls: type[Model], workdir: Path) -> None:
    """Column order never matters, extra columns (the sample's own, such as a date or a note, and one added)
    are ignored and reported in input order, the caller's frame is unchanged."""
    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=6, rows=200)
    before = frame.copy()
    expected = model.score(frame)["predictions"]
    reordered = frame[list(reversed(frame.columns))].assign(unrelated=1.0)
    used = {model_cls.id_column, *derived.inputs_of(model_cls, [*model_cls.numeric, *model_cls.categorical])}
    extra = [column for column in reordered.columns if column not in used]
    shuffled = model.score(reordered)
    assert shuffled["predictions"].equals(expected), "reordered columns changed the predictions"
    assert shuffled["ignored_columns"] == extra, f"ignored columns reported: {shuffled['ignored_columns']}, not {extra}"
    assert frame.equals(before), "scoring changed the caller's DataFrame"


def check_scoring_input_contract(model_cls: type[Model], workdir: Path) -> None:
    """The label, if the input holds it, is ignored like any other column (never read: the predictions stay the
    same) and reported; a renamed or case-changed feature is named; unseen levels are counted."""
    model, _ = _trained(model_cls, workdir)
    frame = _unlabelled(model_cls, seed=4, rows=200)
    label = model_cls.label
    if label:
        labelled = model.score(frame.assign(**{label: 0}))
        assert label in labelled["ignored_columns"], f"the label is not reported ignored: {labelled['ignored_columns']}"
        assert labelled["predictions"].equals(model.score(frame)["predictions"]), "the label changed the predictions"
    feature = derived.raw(model_cls, model_cls.numeric + model_cls.categorical)[0]
    _expect(BadData, lambda: model.score(frame.rename(columns={feature: feature.upper()})), feature.upper())
    if derived.raw(model_cls, model_cls.categorical):
        column = derived.raw(model_cls, model_cls.categorical)[0]
        novel = frame.copy()
        novel.loc[novel.index[:5], column] = "never-seen-level"
        scored = model.score(novel, max_unseen=0.1)
        assert scored["unseen_levels"] == {column: 5}, f"unseen levels reported: {scored['unseen_levels']}"
        assert scored["predictions"][_outputs(model_cls)].notna().all().all(), "unseen levels must score as missing"
        _expect(BadData, lambda: model.score(novel, max_unseen=0.01), "never seen in training")


def check_streams_and_shards_like_whole_file(model_cls: type[Model], workdir: Path) -> None:
    """Streaming a folder of files (Parquet or CSV) in small batches gives exactly the whole-frame predictions,
    and N shards' partitions, in part order, union to the unsharded output row for row, empty shards too; the
    drift verdict is the same for the frame, either format, and the last shard of every shard count. A
    boosted-trees model does all of it with each engine (LightGBM, and its compiled library built at train),
    every one giving LightGBM's whole-frame predictions bit for bit."""
    import pandas as pd

    from shared.estimators import engines, formats

    model = model_cls(store=str(Path(workdir) / "store"))
    boosted = engines.compilable(model)  # a multiclass model has one engine: it scores as a model of another family
    # A small model: what streaming must keep (every row, its order, each engine's exact predictions) does not
    # depend on how many trees there are, and the compiled library of fewer trees builds many times faster.
    model.train(_sample(model_cls), **({"compile": "on", "n_estimators": 20} if boosted else {}))
    frame = _unlabelled(model_cls, seed=9, rows=1200)
    scored = model.score(frame, **({"engine": "lightgbm"} if model_cls.format == formats.LIGHTGBM else {}))
    whole, verdict = scored["predictions"], scored["drift"]
    inputs = {"parquet": Path(workdir) / "in-parquet", "csv": Path(workdir) / "in-csv"}
    for folder in inputs.values():
        folder.mkdir()
    # 5 Parquet units (row groups of 300, 200 and 200 rows, an empty file), 2 CSV units (files)
    for name, part, group in (("a", frame.iloc[:600], 300), ("b", frame.iloc[600:], 200), ("c", frame.iloc[:0], 10)):
        part.to_parquet(inputs["parquet"] / f"{name}.parquet", index=False, row_group_size=group)
    frame.iloc[:500].to_csv(inputs["csv"] / "a.csv", index=False)
    frame.iloc[500:].to_csv(inputs["csv"] / "b.csv", index=False)
    (inputs["parquet"] / "_SUCCESS").write_text("")  # markers and hidden files are not input
    lightgbm = model_cls.format == formats.LIGHTGBM
    for engine in ("lightgbm", "compiled") if boosted else ("lightgbm",) if lightgbm else (None,):
        chosen = {"engine": engine} if engine else {}
        framed = model.score(frame, **chosen)
        assert framed.get("engine") == engine, f"asked for the {engine} engine, {framed.get('engine')} predicted"
        assert framed["predictions"].equals(whole), f"the {engine} engine predicts the frame differently"
        for kind, folder in inputs.items():
            what = f"{kind}{f' with the {engine} engine' if engine else ''}"
            out = Path(workdir) / f"streamed-{kind}-{engine}.parquet"
            result = model.score(str(folder), output=str(out), batch_rows=64, **chosen)
            streamed = pd.read_parquet(out)
            assert result.get("engine") == engine, f"{what}: {result.get('engine')} predicted"
            assert result["rows"] == len(frame), f"{what}: {len(frame)} rows in, {result['rows']} scored"
            assert (
                streamed[_outputs(model_cls)].to_numpy().tolist() == whole[_outputs(model_cls)].to_numpy().tolist()
            ), f"streaming {what} in batches predicts differently from scoring the whole frame"
            assert streamed[model_cls.id_column].astype(str).tolist() == whole[model_cls.id_column].astype(str).tolist()
            assert result["drift"] == verdict, f"streaming {what} in batches gives another drift verdict"
            for count in (1, 2, 3, 7):
                parts = Path(workdir) / f"parts-{kind}-{engine}-{count}"
                results = [
                    model.score(str(folder), output=str(parts), shard=f"{k}/{count}", **chosen) for k in range(count)
                ]
                names = sorted(p.name for p in parts.iterdir() if p.name[0] != "_")  # the run's pin and drift counts
                assert names == [f"part-{k:05d}-of-{count:05d}.parquet" for k in range(count)], names
                assert {r["version"] for r in results} == {result["version"]}, "the shards scored other versions"
                assert {r.get("engine") for r in results} == {engine}, f"{what}: shards used other engines"
                union = pd.concat([pd.read_parquet(parts / name) for name in names], ignore_index=True)
                assert union.equals(streamed), f"{what}: {count} shards do not union to the unsharded output"
                assert sum(r["rows"] for r in results) == len(frame)
                assert [r["drift"]["status"] for r in results[:-1]] == ["pending"] * (count - 1)
                last = dict(results[-1]["drift"])
                assert last.pop("path") == f"{parts}/_drift/run.json"
                assert last == verdict, f"{what}: the verdict of {count} shards differs from one pass's"
                if count == 7:
                    assert any(r["rows"] == 0 for r in results), "7 shards over fewer units: some must be empty"
