"""Data in and out: reading tables, their schema, streaming slices and shards, and writing results.

``data`` reads and writes a table (Parquet, CSV, a folder or glob, S3); ``stream`` reads an input slice by
slice; ``inputs`` resolves a command's ``--data``; ``schema`` the columns a version learned and checks new
rows against them; ``shards`` splits an input for sharded runs; ``overlap`` refuses an output that would
overwrite an input; ``results`` writes a command's JSON result. A new input format goes here. May import
``process`` and ``errors``.
"""
