"""The commands as pipelines: one plan, built once, which the dry run reports and the real run executes.

``score`` and ``train`` each build a ``Plan`` (every check that reads no row, made once) and ``run`` it stage
by stage: for score, pin, load, then read, prepare, predict, count and write batch by batch (``scoring``); for
train, read, derive, split, fit and measure, judge, commit, compile, promote. ``dryrun`` is the dry run's
report, and the header checks of the commands that have no pipeline of their own yet. A command's pipeline, or
a stage several commands share, goes here. May import ``training``, ``monitoring`` and the layers below.
"""
