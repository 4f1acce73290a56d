"""gunicorn settings for a CVN web node: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Every web node is stateless (sessions signed in cookies, rate limits in Redis,
data in PostgreSQL), so any number of them can run behind the TLS proxy. Each
setting can be changed by an environment variable, as in a systemd unit.
"""
import multiprocessing
import os

#: Where the node listens: loopback behind a reverse proxy on the same machine (CVN_BIND).
bind = os.environ.get("CVN_BIND", "127.0.0.1:8000")
#: Worker processes (WEB_CONCURRENCY): 2 per core plus 1 by default.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("CVN_THREADS", "1"))
timeout = 30
graceful_timeout = 20
keepalive = 5
#: Recycle workers now and then (bounded memory), staggered so they never restart together.
max_requests = 2000
max_requests_jitter = 200
#: Each worker builds its own app, database pool and Redis connection after the fork.
preload_app = False
#: The proxy's X-Forwarded-* headers are read by the app itself (ProxyFix, CVN_PROXY_HOPS).
forwarded_allow_ips = "127.0.0.1"

#: Access log on stderr, as JSON lines like the app's: the path without its query string (searches
#: hold names) and without tokens (the app's filter masks one-time paths), with the request id.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "cvn.logs.json_formatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}


def on_starting(server):
    """Mask secrets in every record from the master process on, before any app exists."""
    from cvn.logs import install_filter

    install_filter()


def post_fork(server, worker):
    """Mask secrets in the worker too (the record factory is per process)."""
    from cvn.logs import install_filter

    install_filter()
