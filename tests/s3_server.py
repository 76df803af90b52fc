"""moto's S3 server for the test session, with requests served one at a time: ``python s3_server.py HOST PORT``.

moto checks ``If-None-Match: *`` and then stores the object in two steps, so in its default threaded server two
concurrent conditional creates of one key can both succeed (one object silently replacing the other), which S3
itself never allows: its conditional writes are atomic. The store's create-only writes (alias events, manifests)
rely on that atomicity, so the stand-in must have it too: one lock around each request makes every request atomic,
as S3 makes each conditional write, while connections are still accepted concurrently.
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def serialised(app):
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))  # the whole response made under the lock

    return one_at_a_time


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, serialised(app), threaded=True, request_handler=MotoRequestHandler)
