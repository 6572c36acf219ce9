"""
lava's /regex schema and table names with real CPython `re` (the oracle of
test/unit/jobs/db-from-s3/regex-name-oracle.test.ts). Reads a JSON list of
{"pattern": "/...", "key": "..."} on stdin and writes, per case, what lava's
db_from_s3 makes of it (lava/handlers/db_from_s3.py):

    data_object_nosuffix = splitext2(s3_key, pathsep='/', extsep='.')[0]
    pat = parameters[key][1:]  # Remove leading /
    m = re.search(pat, data_object_nosuffix)
    if not m:
        raise LavaError(f'Object name {data_object_nosuffix} does not match {key} regex')
    try:
        parameters[key] = m.group(1).lower()
    except IndexError:
        raise LavaError(f'Regex for {key} does not contain a capture group')

Outcomes: "name" (with the group and its .lower()), "empty" (group 1 matched ""),
"unset" (group 1 took no part: lava's None.lower() raises AttributeError),
"nomatch", "nogroup" (IndexError), "invalid" (re.compile raised: the message).
"""

import json
import re
import sys
import warnings

warnings.simplefilter("ignore")  # FutureWarning/DeprecationWarning: not errors in lava either


# lava/lib/misc.py (Copyright 2025 Origin Energy Limited, BSD-3-Clause), verbatim.
def sepjoin(sep, *args):
    result = []
    for s in filter(None, args):
        result.extend(s if isinstance(s, list) else [s])

    return sep.join(result)


def splitext2(path, pathsep, extsep):
    try:
        dirpart, basepart = path.rsplit(pathsep, 1)
    except ValueError:
        dirpart, basepart = '', path

    preprefix = ''
    while basepart.startswith(extsep):
        preprefix += extsep
        basepart = basepart[1:]

    try:
        prefix, suffix = basepart.split(extsep, 1)
        suffix = '.' + suffix

    except ValueError:
        prefix, suffix = basepart, ''

    return sepjoin(pathsep, dirpart, preprefix + prefix), suffix


def lava(pattern, key):
    searched = splitext2(key, pathsep='/', extsep='.')[0]
    out = {"searched": searched}
    pat = pattern[1:]
    try:
        out["groups"] = re.compile(pat).groups
        m = re.search(pat, searched)
    except Exception as e:  # re.error, and ValueError/OverflowError for some flags and counts
        out.update(outcome="invalid", error=str(e), type=type(e).__name__)
        return out
    if not m:
        out["outcome"] = "nomatch"
        return out
    try:
        name = m.group(1)
    except IndexError:
        out["outcome"] = "nogroup"
        return out
    if name is None:
        out["outcome"] = "unset"
    elif name == "":
        out["outcome"] = "empty"
    else:
        out.update(outcome="name", name=name, lower=name.lower())
    return out


cases = json.load(sys.stdin)
json.dump([lava(c["pattern"], c["key"]) for c in cases], sys.stdout)
