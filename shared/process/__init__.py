"""How a run behaves as a process: signals, failure reports, partial files, progress and CPUs.

``stopping`` turns SIGTERM/SIGINT into a clean stop; ``failures`` writes the failure report and exit code;
``partials`` and ``atomic`` make every file appear whole or not at all; ``progress`` throttles log lines;
``cpus`` counts the CPUs a pod may use; ``environment`` lists the environment variables read; ``faults``
injects failures for tests. Imports only ``errors``.
"""
