"""Model families: ``Model``, the base class every model extends, and the families that supply its hooks.

``model`` is the model author's contract (columns, metrics, ``Params``, the hooks a family fills in);
``boosted`` (LightGBM gradient-boosted trees: binary, multiclass and regression) and ``clustering`` (scikit-learn
k-means) are the families a model class in ``models/`` subclasses; ``multiclass`` is what a multiclass model adds
(its declared classes, the columns it writes). A new family (ranking, quantiles) is a module here. May import
every layer below ``commands``; never ``commands`` or ``conformance``.
"""
