"""Command plumbing: how a command becomes a method of every model class and gets its values.

``binding`` puts each registered command on a model class (its module imported on first use) and reads its
parameters from the signature; ``settings`` resolves each value (argument > environment > config file >
default); ``config`` reads the config file. A new way to give values (a new source, a new command-line
convention) goes here. May import ``pipelines`` and the layers below; never ``commands`` or ``families``.
"""
