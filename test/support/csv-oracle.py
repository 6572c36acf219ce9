"""
Write query results with real Python as lava does (the result writers'
differential tests' oracle). Reads one JSON object on stdin, each key a list of
cases, and writes the same keys with one outcome per case:

    "pg":    {"text": str | null, "oid": int, "cell": PyCell}
             -> pg8000's value for the text (test/support/pg8000_converters.py):
                {"str", "repr", "type", "numeric", "json", "cellRepr", "cellType"}
                or {"error": "Type: message"} where pg8000 raises
    "csv":   {"params": {...raw job values...}, "header": [str] | null, "rows": [[PyCell]]}
             -> {"lines": [str], "error": "Type: message" | null}, as lava/handlers/sql.py
    "jsonl": {"sortKeys": bool, "names": [str], "rows": [[PyCell]]}
             -> [{"ok": line} | {"error": "Type: message"}], as bin/lava-sql JsonlWriter
    "html":  {"header": [str] | null, "rows": [[PyCell]]} -> str, as bin/lava-sql HtmlWriter

A PyCell (lambda/jobs/sql/py-values.ts) is built into the Python object it names.
"""

import csv
import io
import json
import os
import sys
import warnings
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import ip_address, ip_network
from uuid import UUID

import jinja2
from dateutil.tz import tzoffset

sys.path.insert(0, os.path.dirname(__file__))
import pg8000_converters as pg  # noqa: E402

warnings.simplefilter("ignore")  # dateutil's UnknownTimezoneWarning for "BC"


def build(c):
    """The Python object a PyCell names."""
    t = c["t"]
    simple = {
        "none": lambda: None,
        "bool": lambda: c["v"],
        "int": lambda: int(c["v"]),
        "float": lambda: float(c["v"]),
        "decimal": lambda: Decimal(c["v"]),
        "str": lambda: c["v"],
        "bytes": lambda: bytes.fromhex(c["v"]),
        "date": lambda: date(c["y"], c["mo"], c["d"]),
        "time": lambda: time(c["h"], c["mi"], c["s"], c["us"]),
        "timedelta": lambda: timedelta(days=c["d"], seconds=c["s"], microseconds=c["us"]),
        "pginterval": lambda: pg.PGInterval(**{k: build(v) for k, v in c["v"]}),
        "uuid": lambda: UUID(c["v"]),
        "ipaddr": lambda: ip_address(c["v"]),
        "ipnet": lambda: ip_network(c["v"], False),
        "list": lambda: [build(x) for x in c["v"]],
        "tuple": lambda: tuple(build(x) for x in c["v"]),
        "dict": lambda: {k: build(v) for k, v in c["v"]},
    }
    if t in simple:
        return simple[t]()
    if t == "datetime":
        off = c["off"]
        tz = None
        if off is not None:
            tz = tzoffset(None, off) if c.get("tz") == "tzoffset" else timezone(timedelta(seconds=off))
        return datetime(c["y"], c["mo"], c["d"], c["h"], c["mi"], c["s"], c["us"], tzinfo=tz)
    if t == "range":
        if c["v"] is None:
            return pg.Range(is_empty=True)
        lower, upper, bounds = c["v"]
        return pg.Range(build(lower), build(upper), bounds=bounds)
    raise ValueError(f"unknown cell {t}")


def timedelta_to_str(delta):
    """lava.lib.datetime.timedelta_to_str."""
    if not isinstance(delta, timedelta):
        raise ValueError(f"Expected timedelta not {type(delta)}")
    return str(delta.total_seconds())


def json_default(obj):
    """lava.lib.misc.json_default."""
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, timedelta):
        return timedelta_to_str(obj)
    if isinstance(obj, Decimal):
        return float(obj) if "." in str(obj) else int(obj)
    try:
        return str(obj)
    except Exception:
        raise TypeError(f"Cannot serialize {type(obj)}")


def failure(exc):
    return f"{type(exc).__name__}: {exc}"


def numeric(v):
    """Whether csv's QUOTE_NONNUMERIC leaves v unquoted (PyNumber_Check), asked of csv itself."""
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, quotechar="\x01", delimiter="\x02",
               escapechar="\x03", lineterminator="\x04").writerow([v])
    return not buf.getvalue().startswith("\x01")


def pg_case(case):
    text, oid = case["text"], case["oid"]
    try:
        v = None if text is None else pg.PG_TYPES.get(oid, pg.string_in)(text)
    except Exception as exc:
        return {"error": failure(exc)}
    try:
        as_json = json.dumps(v, default=json_default)
    except Exception as exc:
        as_json = {"error": failure(exc)}
    mine = build(case["cell"])
    return {
        "str": str(v),
        "repr": repr(v),
        "type": type(v).__name__,
        "numeric": numeric(v),
        "json": as_json,
        "cellRepr": repr(mine),
        "cellType": type(mine).__name__,
    }


def csv_case(case):
    """lava/handlers/sql.py: the quoting lookup, then csv.writer, writerow per row."""
    p = case["params"]
    out = io.StringIO()
    lines = []
    try:
        quoting_style = p.get("quoting", "minimal").upper()
        try:
            quoting = getattr(csv, "QUOTE_" + quoting_style)
        except AttributeError:
            raise Exception(f"Bad quoting style: {quoting_style}")
        writer = csv.writer(
            out,
            delimiter=p.get("delimiter", "|"),
            doublequote=p.get("doublequote", False),
            escapechar=p.get("escapechar", None),
            quotechar=p.get("quotechar", '"'),
            quoting=quoting,
            dialect=p.get("dialect", "excel"),
        )
        rows = [[build(c) for c in row] for row in case["rows"]]
        if case["header"] is not None:
            rows.insert(0, case["header"])
        for row in rows:
            start = out.tell()
            writer.writerow(row)
            lines.append(out.getvalue()[start:])
    except Exception as exc:
        return {"lines": lines, "error": failure(exc)}
    return {"lines": lines, "error": None}


def jsonl_case(case):
    """bin/lava-sql JsonlWriter.write, one row at a time."""
    outcomes = []
    for row in case["rows"]:
        out = io.StringIO()
        try:
            json.dump(
                dict(zip(case["names"], [build(c) for c in row])),
                out,
                sort_keys=case["sortKeys"],
                default=json_default,
            )
            print(file=out)
            outcomes.append({"ok": out.getvalue()})
        except Exception as exc:
            outcomes.append({"error": failure(exc)})
    return outcomes


HTML = """
        {%- autoescape true -%}
        <TABLE class="lava-sql">
            {% if header %}<THEAD>
                <TR>
                    {% for h in header -%}
                    <TH>{{ h }}</TH>
                    {% endfor %}
                </TR>
            </THEAD>{% endif %}
            <TBODY>
            {%- for row in data %}
                <TR>
                    {% for val in row -%}
                        <TD>{{ val }}</TD>
                    {% endfor %}
                </TR>
            {% endfor %}
            </TBODY>
        </TABLE>
        {%- endautoescape %}
    """


def html_case(case):
    """bin/lava-sql HtmlWriter.write (its template verbatim)."""
    out = io.StringIO()
    rows = iter([[build(c) for c in row] for row in case["rows"]])
    jinja2.Template(HTML).stream(header=case["header"], data=rows).dump(out)
    return out.getvalue()


HANDLERS = {"pg": pg_case, "csv": csv_case, "jsonl": jsonl_case, "html": html_case}
request = json.load(sys.stdin)
json.dump({k: [HANDLERS[k](case) for case in cases] for k, cases in request.items()}, sys.stdout)
