"""The terms a model class is written in: hyperparameters, metrics, labels and derived features.

``params`` holds the parameter types and bounds (``Bounds``, ``TablePath``) that validate every value;
``annotations`` writes them into the manifest and reads them back; ``metrics`` are the functions a model
declares; ``labels`` the rules a label must meet; ``derived`` checks a model's derived features. The
``Model`` class built on these terms is :mod:`shared.families.model`. May import ``tables`` and below.
"""
