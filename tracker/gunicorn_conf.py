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
