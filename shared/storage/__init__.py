"""The store: versions, their files and manifests, the aliases that point at them, on a folder or S3.

``store`` commits and reads versions atomically; ``backends`` are the folder and object-store backends;
``versions`` the version ids; ``manifest`` a version's manifest; ``artifacts`` loads a version's model and
schema; ``aliases`` and ``pins`` the alias logs and the version a sharded run pins; ``signing`` Ed25519
signatures of versions. A new backend or a tracking sink goes here. May import ``estimators`` and below.
"""
