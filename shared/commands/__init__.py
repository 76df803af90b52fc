"""The commands every model inherits, one module each, looked up by name when first used.

One module per command: ``train``, ``score``, ``evaluate``, ``compare``, ``drift``, ``compile``, ``report``,
``describe``, ``sample``, ``promote``, ``rollback``, ``aliases``, ``gc``. Each is the command's parameters and
their help; a command with a pipeline (``score``, ``train``) hands the run to :mod:`shared.pipelines`.

The command contract. A command is a function in a module of its own (``shared/commands/train.py`` holds
``train``), registered by one line in :data:`BUILT_IN` (or, for one model's own command, in its class's
``command_modules``). It takes the model object first, then its parameters:

- keyword-only and annotated (``Annotated[int, Bounds(ge=1)]``, ``TablePath | None``): the annotation is what
  each value is parsed and validated by, on the command line, from the environment, a config file or Python;
  ``data``, the one positional parameter, names the input;
- the docstring's first paragraph and its ``Args:`` lines are the command's help, as Fire and ``describe``
  show it, and the manifest's;
- every value arrives resolved (argument > environment > config file > default) and validated: the command
  only does its work;
- when ``model._dry_run`` is set, the command checks everything it would read and write, does nothing, and
  returns ``{"dry_run": True, "model", "command", ...}`` (:func:`shared.pipelines.dryrun.plan` builds it);
- it returns one JSON-ready dict, the result the orchestrator reads (XCom), whose first keys are ``model``
  and, for commands that use a version, ``version``.

Registering a command makes it a method of every model class (``Churn(store=...).train(...)``), a command of
the command line, an entry of the manifest, of ``dispatch.argv`` and of ``describe``, with no other edit.
"""

BUILT_IN: tuple[tuple[str, str], ...] = (  # (command, module holding the function of that name), in help order
    ("train", "shared.commands.train"),
    ("score", "shared.commands.score"),
    ("evaluate", "shared.commands.evaluate"),
    ("compare", "shared.commands.compare"),
    ("drift", "shared.commands.drift"),
    ("compile", "shared.commands.compile"),
    ("report", "shared.commands.report"),
    ("describe", "shared.commands.describe"),
    ("sample", "shared.commands.sample"),
    ("promote", "shared.commands.promote"),
    ("rollback", "shared.commands.rollback"),
    ("aliases", "shared.commands.aliases"),
    ("gc", "shared.commands.gc"),
)
