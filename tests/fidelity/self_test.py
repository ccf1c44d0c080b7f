#!/usr/bin/env python3
"""Write altered copies of the fidelity fixtures, each alteration one the emulator's answers
cannot satisfy, so that run.sh can prove the suite fails on a wrong answer.

Usage: self_test.py FIXTURE_DIR OUT_DIR
Prints the ids of the altered examples, one a line; every one of them must fail.
"""

import json
import os
import sys


def add_field(value):
    value["undocumentedField"] = "the emulator never sends this"


def alterations(examples, facts):
    """(id, what was altered, change) for examples that exist in the fixtures."""
    by_id = {e["id"]: e for e in examples + facts}
    out = [
        ("001/text-message/1", "a field the answer lacks",
         lambda e: add_field(e["response"]["body"])),
        ("001/create-a-webhook/1", "status 200 instead of 201",
         lambda e: e["response"].__setitem__("status", 200)),
        ("001/list-all-webhooks/1", "a field the second item lacks",
         lambda e: add_field(e["response"]["body"]["items"][1])),
        ("001/the-flow-object/1", "flowId documented as a number",
         lambda e: e["rows"][0].__setitem__("type", "number")),
        ("001/keep-alive/1", "a pong with a payload",
         lambda e: e["expect"][0].__setitem__("payload", {})),
        ("001/receiving-messages/2", "a message field the reply lacks",
         lambda e: add_field(e["frame"]["payload"]["messages"][0])),
        ("001/responses/2", "another error text",
         lambda e: e["frame"].__setitem__("message", "Something else entirely")),
        ("002/join/2", "another join error",
         lambda e: e["reply"].__setitem__("reason", "forbidden")),
        ("js/frame-types", "pong no longer handled",
         lambda e: e["handles"].remove("pong")),
    ]
    return [(i, what, change, by_id[i]) for i, what, change in out if i in by_id]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    src, dst = argv[1], argv[2]
    with open(os.path.join(src, "examples.json"), encoding="utf-8") as f:
        examples = json.load(f)
    with open(os.path.join(src, "js_client.json"), encoding="utf-8") as f:
        js = json.load(f)
    for ident, what, change, example in alterations(examples["examples"], js["facts"]):
        change(example)
        example["altered_by_self_test"] = what
        print(ident)
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "examples.json"), "w", encoding="utf-8") as f:
        json.dump(examples, f, indent=1, ensure_ascii=False)
    with open(os.path.join(dst, "js_client.json"), "w", encoding="utf-8") as f:
        json.dump(js, f, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
