"""Every registered model passes the shared conformance suite, and the suite catches a permuted feature order.

The models come from the registry (``--model=NAME`` picks some, as each model's tox env does); a model whose
extra is not installed here is skipped, saying which extra it needs.
"""

import pytest

from dispatch import registry
from shared import conformance
from shared.families.clustering import ClusteringModel


def _models(config) -> list[str]:
    return config.getoption("model") or registry.names()


def pytest_generate_tests(metafunc):
    if "model_cls" in metafunc.fixturenames:
        metafunc.parametrize("model_cls", _models(metafunc.config), indirect=True)
    if "check" in metafunc.fixturenames:
        metafunc.parametrize("check", conformance.ALL_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))


@pytest.fixture
def model_cls(request):
    """The class of a registered model; skipped where its extra is not installed."""
    missing = registry.missing_requirements(request.param)
    if missing:
        pytest.skip(f"model {request.param!r} needs its extra here (missing: {', '.join(missing)})")
    return registry.load(request.param)


def test_conformance(model_cls, check, tmp_path):
    """Each conformance check holds for each registered model."""
    check(model_cls, tmp_path)


@pytest.mark.parametrize(
    "round_trip", [conformance.check_artifact_round_trip, conformance.check_held_out_rows_reproduce_train_metrics]
)
def test_conformance_fails_when_the_feature_order_is_permuted(
    model_cls, round_trip, permuted_feature_order, request, tmp_path
):
    """Mutation test: with the stored feature order permuted, the round-trip checks fail."""
    mutant = request.node.callspec.params["permuted_feature_order"]
    if issubclass(model_cls, ClusteringModel) and mutant == "order-and-no-file-check":
        # The scikit-learn pipeline selects its columns by name, so a manifest trusted without the model-file
        # check cannot make it read the wrong columns: an equivalent mutant.
        pytest.skip("equivalent mutant: a clustering pipeline selects columns by name")
    with pytest.raises(permuted_feature_order):
        round_trip(model_cls, tmp_path)
