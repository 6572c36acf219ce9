"""
Split SQL scripts with real sqlparse, as lava's sql jobs do (the SQL splitter's
differential test's oracle). Reads a JSON list of scripts (strings) on stdin and
writes, per script, the JSON list `sqlparse.split(script.strip())`
(lava/handlers/sql.py), so every piece as sqlparse returns it.
"""

import json
import sys

scripts = json.load(sys.stdin)

import sqlparse  # noqa: E402

json.dump([sqlparse.split(s.strip()) for s in scripts], sys.stdout)
