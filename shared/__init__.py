"""What every modelfleet model uses: base class, data IO, artifact store, parameters, errors, results."""

__version__ = "0.1.0"
