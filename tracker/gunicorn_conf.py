"""gunicorn settings (bin/web): its access and error logs go through the app's filters.

The access log line carries the request id the app returned, and signed tokens
in paths (review and digest links) are redacted like everywhere else.
"""

import os

from tracker.logs import logging_config

logconfig_dict = logging_config(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    json=os.environ.get("LOG_FORMAT", "plain") == "json",
)
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
accesslog = "-"
# gunicorn's control socket (for `gunicornc`) defaults to one path per user in
# $HOME, so two servers on one machine (make run and the load test, or two
# checkouts) would fight over it. Nothing here uses it.
control_socket_disable = True
