"""The dispatcher: one Python Fire root object mapping model names to model classes."""
