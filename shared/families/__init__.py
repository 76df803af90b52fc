"""Model families: ``Model``, the base class every model extends, and the families that supply its hooks.

``model`` is the model author's contract (columns, metrics, ``Params``, the hooks a family fills in);
``boosted`` (LightGBM gradient-boosted trees: binary and regression) and ``clustering`` (scikit-learn k-means)
are the families a model class in ``models/`` subclasses. A new family (multiclass, ranking, quantiles) is a
module here. May import every layer below ``commands``; never ``commands`` or ``conformance``.
"""
