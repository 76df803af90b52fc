"""Fitting a version: which rows are held out, the fit itself, and the statistical gate of a promotion.

``split`` decides the held-out and early-stopping rows (random, by group, by time); ``fitting`` fits and
measures on them; ``bootstrap`` gives a metric's confidence interval; ``gate`` judges a candidate against the
current version; ``promotion`` checks what ``--promote`` asks, loads the version it is measured against, and
moves the alias on the verdict the version recorded. Tuning and cross-validation belong here. May import
``monitoring`` and the layers below.
"""
