"""What the commands share when they run: the dry run's plan and scoring in batches.

``dryrun`` builds the plan a command reports with ``--dry_run``; ``scoring`` reads an input slice by slice,
predicts each batch and writes it. A stage shared by several commands goes here. May import ``training``,
``monitoring`` and the layers below.
"""
