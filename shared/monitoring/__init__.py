"""What a version knows about its data and predictions: profiles, drift, tallies and reports.

``profile`` is the reference profile taken at training; ``drift`` compares a scoring run against it, and
``watch`` is one run's drift (its tally, limits and verdict); ``tallies`` add up the drift counts of many
shards; ``report`` writes the HTML report, drawn by ``svg`` and ``curves``. A new monitor or report section
goes here. May import ``storage`` and the layers below.
"""
