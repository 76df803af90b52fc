"""Fitted models as files and the engines that predict with them.

``formats`` saves and loads a model file (LightGBM text, skops); ``matrix`` turns prepared features into the
estimator's matrix; ``engines`` chooses the engine that scores (LightGBM or the compiled library);
``compiled`` builds and checks the compiled library. A new engine or file format goes here. May import
``contract`` and the layers below.
"""
