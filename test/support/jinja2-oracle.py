"""
Render templates with real Python Jinja2 in a lava context (the differential
test's oracle). Reads a JSON list of scenarios on stdin, each

    {"timeZone": "...", "start": <epoch seconds>, "realm": {...}, "job": {...},
     "runId": "...", "globals": {...}, "vars": {...}, "extra": {...},
     "templates": ["...", ...]}

and writes, per scenario, a JSON list with one {"ok": text} or
{"error": "Type: message"} per template. The context is built as lava's jinja_render_vars builds it
(lava/lavacore.py), with StrictUndefined (lava-aurora's deliberate choice).
"""

import json
import os
import sys
import time

scenarios = json.load(sys.stdin)

import datetime  # noqa: E402
import os.path  # noqa: E402
import re  # noqa: E402
from uuid import uuid4  # noqa: E402

import dateutil  # noqa: E402
import dateutil.parser  # noqa: E402
import dateutil.relativedelta  # noqa: E402
import dateutil.tz  # noqa: E402
import jinja2  # noqa: E402


def s3_split(s):
    """lava.lib.aws.s3_split."""
    for p in "s3://", "s3:":
        if s.startswith(p):
            s = s[len(p):]
            break
    t = s.strip("/").split("/", 1)
    if not t[0]:
        raise ValueError(f"Invalid S3 object name: {s}")
    return t[0], t[1].strip("/") if len(t) > 1 else ""


JINJA_UTILS = {
    "timedelta": datetime.timedelta,
    "datetime": datetime.datetime,
    "date": datetime.date,
    "dateutil": dateutil,
    "time": datetime.time,
    "parsedate": dateutil.parser,
    "s3bucket": lambda s: s3_split(s)[0],
    "s3key": lambda s: s3_split(s)[1],
    "uuid": uuid4,
    "path": os.path,
    "re": re,
}



def render_all(request):
    """Render one scenario's templates in its context."""
    os.environ["TZ"] = request["timeZone"]
    time.tzset()
    ts_start = datetime.datetime.fromtimestamp(request["start"], dateutil.tz.tzlocal()).replace(microsecond=0)
    ts_ustart = ts_start.astimezone(datetime.timezone.utc)
    realm = dict(request["realm"])
    job = dict(request["job"])
    job["run_id"] = request["runId"]
    job["realm"] = realm["realm"]
    job["ts_start"] = ts_start
    job["ts_ustart"] = ts_ustart
    job["globals"] = request["globals"]

    render_vars = dict(
        job=job,
        realm=realm,
        globals=request["globals"],
        start=ts_start,
        ustart=ts_ustart,
        utils=JINJA_UTILS,
        vars=request["vars"],
        **request["extra"],
    )

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    out = []
    for source in request["templates"]:
        try:
            out.append({"ok": env.from_string(source).render(**render_vars)})
        except Exception as exc:  # every failure counts as "fails"
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    return out


json.dump([render_all(r) for r in scenarios], sys.stdout)
