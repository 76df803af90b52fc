"""Every environment variable modelfleet reads besides a parameter's own, with what it does.

A parameter's variables (``MODELFLEET_<MODEL>_<PARAM>``, ``MODELFLEET_<MODEL>_<COMMAND>_<PARAM>``) come from its
spec and are listed by ``modelfleet manifest``; these are the rest. The docs' reference is generated from this
table, and a test checks that every ``MODELFLEET_*`` name in the code is in it.
"""

VARIABLES: tuple[tuple[str, str], ...] = (
    (
        "MODELFLEET_STORE",
        "The store every command reads and writes when `--store` is not given (default `./modelfleet-store`; "
        "the image sets `/data/store`).",
    ),
    (
        "MODELFLEET_STORAGE_OPTIONS",
        "JSON object of fsspec options for object storage URLs (an endpoint, a region); credentials come from"
        " the provider's own variables.",
    ),
    (
        "MODELFLEET_RESULT_PATH",
        "A file the command's JSON result (or its failure record) is also written to, atomically.",
    ),
    (
        "MODELFLEET_XCOM_DIR",
        "The folder whose `return.json` gets the result when it exists (default `/airflow/xcom`, the "
        "KubernetesPodOperator convention).",
    ),
    ("MODELFLEET_LOG_LEVEL", "The log level on stderr (default `INFO`)."),
    (
        "MODELFLEET_LOG_FORMAT",
        "`json` makes every stderr line a JSON object (logs, warnings and the final error line).",
    ),
    ("MODELFLEET_DEBUG", "`1` adds the traceback to an error line, like `--debug`."),
    ("MODELFLEET_PROGRESS_SECONDS", "Seconds between the progress lines of a long run on stderr (default 10)."),
    (
        "MODELFLEET_SIGNING_KEY",
        "PEM text of an Ed25519 private key: `train`, `compile`, `promote` and `rollback` sign what they write.",
    ),
    ("MODELFLEET_SIGNING_KEY_FILE", "A file holding the signing key's PEM text (instead of `MODELFLEET_SIGNING_KEY`)."),
    (
        "MODELFLEET_VERIFY_KEY",
        "PEM text of one or more Ed25519 public keys: every reader refuses (3) what none of them signed.",
    ),
    ("MODELFLEET_VERIFY_KEY_FILE", "A file holding the verify keys' PEM text (instead of `MODELFLEET_VERIFY_KEY`)."),
    (
        "MODELFLEET_IMAGE",
        "The image a run comes from (e.g. its tag or digest), recorded in alias events as who moved the alias.",
    ),
    (
        "MODELFLEET_MANIFEST",
        "For DAG authors: the image's `modelfleet manifest` JSON that `pod_task` and `dispatch.argv` check "
        "calls against, instead of the models installed beside Airflow.",
    ),
    (
        "MODELFLEET_FAULT",
        "For tests only: a crash point (`<point>` or `<point>:SIGNAL`) at which the process kills itself.",
    ),
)
