"""The model contract: what a class may declare, how its commands are found, and the deprecated shim."""

import dataclasses
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import ModelDefinitionError
from shared.families.clustering import ClusteringModel
from shared.families.model import Model
from shared.plumbing.binding import RETIRED


@dataclasses.dataclass(frozen=True)
class Params:
    seed: int = 0


def _member(kind: str):
    """Something a class body may define under a command's name."""
    return {
        "method": lambda self, *args, **kwargs: {},
        "staticmethod": staticmethod(lambda: {}),
        "property": property(lambda self: None),
        "value": 3,
    }[kind]


@given(
    command=st.sampled_from(Model.commands),
    family=st.sampled_from([Model, ClusteringModel]),
    with_params=st.booleans(),
    kind=st.sampled_from(["method", "staticmethod", "property", "value"]),
)
def test_a_class_defining_a_command_name_is_refused_at_creation(command, family, with_params, kind):
    """A member named like a command would replace it and drop its parameters: refused, naming it and the fix."""
    body = {command: _member(kind), "__doc__": "A model."}
    if with_params:
        body |= {"Params": Params, "estimator_params": {"seed": "random_state"}}
    with pytest.raises(ModelDefinitionError, match=f"defines '{command}', the name of one of its commands") as caught:
        type("Mine", (family,), body)
    assert "rename it" in str(caught.value)
    assert caught.value.exit_code == 78


def test_a_command_registered_to_a_missing_module_says_so_when_looked_up():
    """A registration naming a module that does not exist, or one without the function, is a model definition
    error the moment the command is looked up; the class's other commands still work."""
    body = {"Params": Params, "estimator_params": {"seed": "random_state"}, "__doc__": "A model."}
    modules = (*Model.command_modules, ("explain", "no_such_module_here"), ("sample2", "shared.commands.sample"))
    mine = type("Mine", (Model,), {**body, "command_modules": modules})
    assert mine.commands[-2:] == ("explain", "sample2")
    with pytest.raises(ModelDefinitionError, match="'explain' is registered as module 'no_such_module_here'"):
        _ = mine.explain
    with pytest.raises(ModelDefinitionError, match="which has no function 'sample2'"):
        _ = mine.sample2
    assert callable(mine.describe)


def test_each_class_gets_its_own_commands():
    """A subclass's command knows the subclass (its name, its hyperparameters), not its parent's."""
    from models.churn import Churn

    renamed = type("TelcoChurn", (Churn,), {"__doc__": Churn.__doc__})
    assert renamed.train is not Churn.train
    assert renamed.name == "telcochurn"
    assert "MODELFLEET_TELCOCHURN_N_ESTIMATORS" in renamed.train.__doc__
    assert "MODELFLEET_CHURN_N_ESTIMATORS" in Churn.train.__doc__


def test_command_modules_are_imported_only_when_a_command_is_looked_up():
    """Importing every model class imports no command module; the first look-up imports that one alone."""
    script = (
        "import sys; import models.churn, models.ltv, models.segment;"
        "before = sorted(m for m in sys.modules if m.startswith('shared.commands.'));"
        "models.churn.Churn.describe;"
        "after = sorted(m for m in sys.modules if m.startswith('shared.commands.'));"
        "print(before, after)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] ['shared.commands.describe']"


@given(command=st.sampled_from(Model.commands))
def test_a_command_named_method_inherited_from_a_mixin_is_refused(command):
    """A mixin's method would hide the command just as the class's own would."""
    from models.churn import Churn

    mixin = type("Describing", (), {command: lambda self, *args, **kwargs: {"custom": True}})
    with pytest.raises(ModelDefinitionError, match=f"inherits from Describing '{command}'"):
        type("Mine", (mixin, Churn), {"__doc__": "A model.", "name": "mine"})


@given(name=st.sampled_from(sorted(RETIRED)))
def test_a_method_the_commands_no_longer_call_is_refused_naming_where_it_went(name):
    from models.churn import Churn

    with pytest.raises(ModelDefinitionError, match="which the commands no longer call") as caught:
        type("Mine", (Churn,), {name: lambda self, *args: None, "__doc__": "A model."})
    assert RETIRED[name].split(" ")[0] in str(caught.value)


def test_a_class_may_offer_fewer_commands_in_its_own_order():
    from models.churn import Churn

    few = type("Few", (Churn,), {"commands": ("score", "train"), "__doc__": "A model.", "name": "few"})
    assert few.commands == ("score", "train")
    assert [name for name, _ in few.command_modules] == ["score", "train"]
    assert list(few(store="unused").describe()["commands"]) == ["score", "train"]
    with pytest.raises(ModelDefinitionError, match="lists command 'explain' in commands, which no module registers"):
        type("More", (Churn,), {"commands": ("train", "explain"), "__doc__": "A model."})
