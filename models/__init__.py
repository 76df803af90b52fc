"""The fleet: one package per model. Each registers under the ``modelfleet.models`` entry-point group."""
