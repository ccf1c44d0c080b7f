#!/usr/bin/env python3
"""Extract every request/answer example, frame and field table from the seed documents.

Usage: extract.py SEEDS_DIR [OUT]

Writes the fixture the fidelity suite reads (tests/fidelity/examples.json) to OUT, or to
stdout. The seeds are not in the repository, so CI reads the committed fixture; run.sh
re-extracts when a seeds folder is at hand and fails when the two differ.

Everything in the output comes from the seeds, except the `decision` notes (the table
DECISIONS below): where a seed contradicts another seed or shared/DESIGN.md, the note
says which way the emulator goes, next to the example it concerns.

Standard library only; the parser is deliberately strict about the layout it knows, so a
changed seed fails loudly here instead of silently dropping examples.
"""

import hashlib
import json
import os
import re
import sys

SEED_000 = "000_a263eb7c19a0d3db.txt"
SEED_001 = "001_5402ad667e6f7d9a.txt"
SEED_002 = "002_7f51e7976e7bb36f.txt"
SEED_003 = "003_64fa5d0a7f3d295e.txt"

# Where the seeds contradict each other or DESIGN.md, the side the emulator takes.
DECISIONS = {
    "001/text-message/2": "The JS snippet posts to /v1/messaging/query, the HTTP example and DESIGN 4.1 to /v1/messaging/message: the emulator serves both paths alike.",
    "001/event-message/2": "The JS snippet posts to /v1/messaging/query, the HTTP example and DESIGN 4.1 to /v1/messaging/message: the emulator serves both paths alike.",
    "001/location-message/2": "The JS snippet posts to /v1/messaging/query, the HTTP example and DESIGN 4.1 to /v1/messaging/message: the emulator serves both paths alike.",
    "001/media-message/1": "The query part says type \"location\" and \"mimetype\"; the JS snippet and DESIGN 4.1 say a multipart message is media and spell mimeType: the emulator treats every multipart message as media and reads either spelling. The example shows no file bytes; the suite sends a small PNG.",
    "001/media-message/2": "The snippet writes JSON.stringify(query: {...}), which is not valid JS; read either as the object itself or wrapped as {\"query\": {...}}: the emulator accepts both, the suite sends both. Posted to /v1/messaging/query (see text-message/2).",
    "001/create-a-webhook/1": "The example request and Location say /messages/v1/webhooks, the endpoint line and DESIGN 4.2 say /v1/messaging/webhooks: the emulator serves both, and Location names the path the request used.",
    "001/retrieve-a-webhook/1": "Example path /messages/v1/webhooks/{id}, endpoint /v1/messaging/webhooks/{id}: both are served.",
    "001/update-a-webhook/1": "The endpoint line says POST, the example PUT; DESIGN 4.2: the SDK sends PUT, the emulator accepts both. The example answer still lists message.delivered although the request drops it; the text says the passed values are set, so the answer carries the events sent. organisationId in the request is accepted and cannot move a webhook to another organisation.",
    "001/list-all-webhooks/1": "The example request line names one webhook's path; the endpoint line, the answer ({items: [...]}) and DESIGN 4.2 make it GET /v1/messaging/webhooks, newest first.",
    "001/delete-a-webhook/1": "The answer is 204 No Content, which has no body (RFC 9110); the object shown under Example Response is the webhook that was deleted, not a body the emulator sends.",
    "001/retrieve-a-flow/1": "The seed gives the path /flows/info without its parameter; DESIGN 4.3 names it flowId.",
    "001/list-all-flows/1": "flows/list gives each step's intent and actions as ids, flows/info whole objects (the Step table's 'intent object' describes flows/info).",
    "001/request-an-endpoint/1": "The seeds call api.flow.ai, the JS SDK sdk.flow.ai (DESIGN 4.4): the emulator serves socket.info at its own base URL for both.",
    "001/common-format/1": "The attributes table calls payload required, yet the ping, pong and error examples carry none: frames without a body have no payload.",
    "001/common-format/2": "payload is required of frames with a body: the ping, pong and error examples carry none.",
    "001/list-all-intents/1": "The seed names the listing without its request; DESIGN 4.3: intents are listed like flows, GET /intents/list.",
    "001/list-all-entity-types/1": "The seed names the listing without its request; DESIGN 4.3: entity types are listed like flows, GET /entitytypes/list.",
    "001/list-all-projects/1": "The seed says this endpoint 'retrieves all Flows', a slip copied from flows: it lists projects, GET /projects/list (DESIGN 4.3).",
    "001/list-all-members/1": "The seed names the listing without its request; DESIGN 4.3: members are listed like flows, GET /members/list.",
    "001/the-step-object/3": "The list of step types leaves out SLOT, which the flows/list example and DESIGN 4.3 use: SLOT is a step type too.",
    "001/responding-to-a-call/1": "\"up to two 4 hours\": read as 4 hours (DESIGN 4.2); the suite checks the window with the emulator's time scale.",
    "001/originator-object/1": "The example has a trailing comma after originator, which JSON does not allow: read without it.",
    "001/responses/1": "The example has traceId twice (1 and 1489399519321): a JSON object keeps the last, which is the traceId of the message sent.",
    "001/receiving-messages/1": "The originator here is a user (role user with a full profile); the emulator's replies come from the bot, whose originator has the shape of the advanced example (userId, name, role, profile.picture).",
    "003/payload-example/1": "The originator here is a user (role user with a full profile); the emulator's replies come from the bot, whose originator has the shape of the advanced example (userId, name, role, profile.picture).",
    "002/utb-img/2": "The text says utb_img, the sample code pushes utb_msg with an image: DESIGN 4.5 follows the text (utb_img).",
    "000/vanilla-js-example/1": "The seed calls sdk.flow.ai here and api.flow.ai in seed 001 (DESIGN 4.4): the emulator serves socket.info at its own base URL.",
}

# The headings of seed 001, in order, with the part of the API they belong to. A heading
# that is not found in order is an error: the seed changed and the script must follow.
HEADINGS_001 = [
    ("Introduction", "Introduction"),
    ("Messaging API", "Messaging API"),
    ("Sending messages", "Messaging API"),
    ("Endpoint", "Messaging API"),
    ("Authentication", "Messaging API"),
    ("Text message", "Messaging API"),
    ("Event message", "Messaging API"),
    ("Location message", "Messaging API"),
    ("Media message", "Messaging API"),
    ("Webhooks", "Webhooks"),
    ("Receiving calls", "Webhooks"),
    ("Responding to a call", "Webhooks"),
    ("Type of Events", "Webhooks"),
    ("The Webhook object", "Webhooks"),
    ("Create a webhook", "Webhooks"),
    ("Retrieve a Webhook", "Webhooks"),
    ("Update a Webhook", "Webhooks"),
    ("List all Webhooks", "Webhooks"),
    ("Delete a Webhook", "Webhooks"),
    ("Management API", "Management API"),
    ("Authentication", "Management API"),
    ("Flows", "Management API"),
    ("The Flow object", "Management API"),
    ("The Step object", "Management API"),
    ("Create a Flow", "Management API"),
    ("Retrieve a Flow", "Management API"),
    ("Update a Flow", "Management API"),
    ("List all Flows", "Management API"),
    ("Intents", "Management API"),
    ("The Intent object", "Management API"),
    ("Create an Intent", "Management API"),
    ("Retrieve an Intent", "Management API"),
    ("Update an Intent", "Management API"),
    ("List all Intents", "Management API"),
    ("Entity types", "Management API"),
    ("The Entity type object", "Management API"),
    ("Create an Entity type", "Management API"),
    ("Retrieve an Entity type", "Management API"),
    ("Update an Entity type", "Management API"),
    ("List all Entity types", "Management API"),
    ("Projects", "Management API"),
    ("The Project object", "Management API"),
    ("Create a Project", "Management API"),
    ("Retrieve a Project", "Management API"),
    ("Update a Project", "Management API"),
    ("List all Projects", "Management API"),
    ("Members", "Management API"),
    ("The Member object", "Management API"),
    ("List all Members", "Management API"),
    ("Web socket API", "Web socket API"),
    ("Audience", "Web socket API"),
    ("Getting started", "Web socket API"),
    ("Request an endpoint", "Web socket API"),
    ("Open a connection", "Web socket API"),
    ("Common format", "Web socket API"),
    ("Keep alive", "Web socket API"),
    ("Sending Messages", "Web socket API"),
    ("Originator object", "Web socket API"),
    ("Profile object", "Web socket API"),
    ("Metadata", "Web socket API"),
    ("Params object", "Web socket API"),
    ("Attachment", "Web socket API"),
    ("Responses", "Web socket API"),
    ("Receiving Messages", "Web socket API"),
    ("Response fields", "Web socket API"),
    ("Example", "Web socket API"),
]

# Sections of seed 001 whose prose states rules of the protocol (no example to send): each
# is extracted as one `rule` example holding the section's text, and checked like one.
RULE_SECTIONS_001 = (
    ("Introduction", "Introduction"),
    ("Messaging API", "Messaging API"),
    ("Sending messages", "Messaging API"),
    ("Authentication", "Messaging API"),
    ("Receiving calls", "Webhooks"),
    ("Responding to a call", "Webhooks"),
    ("Open a connection", "Web socket API"),
)

HEADINGS_002 = [
    "Setting up a session",
    "Message type: join",
    "Message type: new_session",
    "Message type: delete_session",
    "Sending messages",
    "Message type: utb_msg",
    "Message type: put_data",
    "Sending images",
    "Message type: utb_img",
    "Receiving messages",
    "Message type: btu_msg",
]

HEADINGS_003 = ["Payload Example", "Advanced Reply Example", "More information"]

HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) (\S+) HTTP/1\.1$")
ENDPOINT_LINE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH) (/\S*)$")
STATUS_LINE = re.compile(r"^(\d{3}) ([A-Z][A-Za-z ]+)$")
HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.+)$")
TABLE_ROW = re.compile(r"^(\w+)(?: ([A-Za-z][A-Za-z ]*?))? \| (.*?) \|(?: ([A-Za-z]+) \|)?$")
SEPARATOR_ROW = re.compile(r"^-+(\|-*)+\|?$")


class ParseError(Exception):
    pass


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --- a small reader for the JSON and JS object literals the seeds show -----------------


class Literal:
    """Reads JSON and the JS object literals of the code samples.

    JS-only syntax is kept as facts: bare keys and single quotes become JSON; an identifier
    or template literal (a variable in the sample) becomes {"$js": "source"}; a trailing
    comma and a repeated key are allowed and reported in `notes`."""

    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.notes = []

    def parse(self):
        value = self.value()
        self.space()
        if self.pos != len(self.text):
            raise ParseError("trailing text after literal: %r" % self.text[self.pos:self.pos + 40])
        return value

    def space(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self):
        self.space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch):
        if self.peek() != ch:
            raise ParseError("expected %r at %r" % (ch, self.text[self.pos:self.pos + 40]))
        self.pos += 1

    def value(self):
        ch = self.peek()
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.arr()
        if ch in "\"'":
            return self.string()
        if ch == "`":
            end = self.text.index("`", self.pos + 1)
            src = self.text[self.pos:end + 1]
            self.pos = end + 1
            return {"$js": src}
        m = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?").match(self.text, self.pos)
        if m:
            self.pos = m.end()
            return float(m.group()) if (m.group(1) or m.group(2)) else int(m.group())
        m = re.compile(r"[A-Za-z_$][\w$.]*(\(\))?").match(self.text, self.pos)
        if m:
            self.pos = m.end()
            word = m.group()
            if word in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[word]
            return {"$js": word}
        raise ParseError("unexpected %r" % self.text[self.pos:self.pos + 40])

    def string(self):
        quote = self.text[self.pos]
        self.pos += 1
        out = []
        while True:
            ch = self.text[self.pos]
            if ch == "\\":
                out.append(json.loads('"\\' + self.text[self.pos + 1] + '"'))
                self.pos += 2
                continue
            self.pos += 1
            if ch == quote:
                return "".join(out)
            out.append(ch)

    def key(self):
        ch = self.peek()
        if ch in "\"'":
            return self.string()
        m = re.compile(r"[A-Za-z_$][\w$]*").match(self.text, self.pos)
        if not m:
            raise ParseError("expected a key at %r" % self.text[self.pos:self.pos + 40])
        self.pos = m.end()
        return m.group()

    def obj(self):
        self.expect("{")
        out = {}
        while True:
            if self.peek() == "}":
                self.pos += 1
                return out
            k = self.key()
            self.expect(":")
            v = self.value()
            if k in out:
                self.notes.append("key %s appears twice; the last value is kept" % k)
            out[k] = v
            if self.peek() == ",":
                self.pos += 1
                if self.peek() in "}]":
                    self.notes.append("trailing comma removed")
            elif self.peek() != "}":
                raise ParseError("expected , or } at %r" % self.text[self.pos:self.pos + 40])

    def arr(self):
        self.expect("[")
        out = []
        while True:
            if self.peek() == "]":
                self.pos += 1
                return out
            out.append(self.value())
            if self.peek() == ",":
                self.pos += 1
                if self.peek() in "}]":
                    self.notes.append("trailing comma removed")
            elif self.peek() != "]":
                raise ParseError("expected , or ] at %r" % self.text[self.pos:self.pos + 40])


def literal(text, js=False):
    """(value, notes) of a JSON literal, or of a JS one when `js`."""
    reader = Literal(text)
    value = reader.parse()
    notes = list(reader.notes)
    if not js:
        try:
            json.loads(text)
        except ValueError:
            if not notes:
                notes.append("not strict JSON")
    return value, notes


def _has_js(value):
    if isinstance(value, dict):
        return "$js" in value or any(_has_js(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_js(v) for v in value)
    return False


def balanced(lines, i, open_ch=None):
    """The text of the bracketed literal starting on line i, and the index after it."""
    text = []
    depth = 0
    quote = None
    started = False
    j = i
    while j < len(lines):
        line = lines[j]
        text.append(line)
        k = 0
        if not started and open_ch:
            k = line.index(open_ch)
        for pos in range(k, len(line)):
            ch = line[pos]
            if quote:
                if ch == "\\":
                    continue
                if ch == quote:
                    quote = None
                continue
            if ch in "\"'`" and started:
                quote = ch
            elif ch in "{[(":
                depth += 1
                started = True
            elif ch in "}])":
                depth -= 1
                if started and depth == 0:
                    whole = "\n".join(text)
                    offset = len(whole) - len(line) + pos + 1
                    first = whole.index(open_ch) if open_ch else len(text[0]) - len(text[0].lstrip())
                    return whole[first:offset], j + 1
        j += 1
    raise ParseError("unbalanced literal from line %d" % (i + 1))


# --- seed 001 ---------------------------------------------------------------------------


def sections(lines, headings):
    """Split lines at the headings (found in order); yields (heading, part, body lines)."""
    found = []
    start = 0
    for heading, part in headings:
        for idx in range(start, len(lines)):
            if lines[idx].strip() == heading:
                found.append((idx, heading, part))
                start = idx + 1
                break
        else:
            raise ParseError("heading %r not found after line %d" % (heading, start))
    out = []
    for n, (idx, heading, part) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else len(lines)
        out.append((heading, part, lines[idx + 1:end]))
    return out


def parse_http_request(lines, i):
    m = REQUEST_LINE.match(lines[i])
    request = {"method": m.group(1), "path": m.group(2), "headers": {}, "body": None}
    i += 1
    while i < len(lines) and HEADER_LINE.match(lines[i]):
        h = HEADER_LINE.match(lines[i])
        request["headers"][h.group(1)] = h.group(2)
        i += 1
    notes = []
    if i < len(lines) and lines[i].startswith("{"):
        text, i = balanced(lines, i)
        request["body"], notes = literal(text)
    elif i < len(lines) and lines[i].startswith("------"):
        request["multipart"], i = parse_multipart(lines, i)
    return request, notes, i


def parse_multipart(lines, i):
    """The parts of a multipart body as the seed prints it (boundary lines, headers, body)."""
    parts = []
    current = None
    while i < len(lines) and (lines[i].startswith("------") or current is not None):
        line = lines[i]
        if line.startswith("------"):
            if current is not None:
                parts.append(current)
            current = None if line.endswith("--") else {"headers": {}, "body": None}
            i += 1
            continue
        h = HEADER_LINE.match(line)
        if h and current["body"] is None:
            current["headers"][h.group(1)] = h.group(2)
            disposition = dict(re.findall(r'(\w+)="([^"]*)"', h.group(2)))
            current.update({k: v for k, v in disposition.items() if k in ("name", "filename")})
            i += 1
        elif line.startswith("{"):
            text, i = balanced(lines, i)
            current["body"], _ = literal(text)
        else:
            raise ParseError("unexpected multipart line %r" % line)
    return parts, i


def parse_js_request(lines, i):
    """`const result = await request({...})`, with the FormData lines above it."""
    text, end = balanced(lines, i, "{")
    options, notes = literal(text, js=True)
    request = {
        "method": options.get("method"),
        "url": options.get("url"),
        "headers": options.get("headers", {}),
        "body": options.get("body"),
    }
    if options.get("json") is True:
        request["json"] = True
    # FormData parts appended above the call.
    parts = []
    j = i - 1
    while j >= 0 and not lines[j].startswith("import "):
        j -= 1
    k = j
    while k < i:
        line = lines[k]
        m = re.match(r"^formData\.append\('(\w+)', (.*)$", line)
        if m:
            name = m.group(1)
            rest = m.group(2)
            if rest.startswith("JSON.stringify("):
                tail = [rest[len("JSON.stringify"):]] + lines[k + 1:]
                inner_text, used = balanced(tail, 0, "(")
                k += used
                inner = inner_text[1:-1].strip()
                # `query: {...}`: a label before the object, written as if it were an object key.
                label = re.match(r"^(\w+):\s*", inner)
                if label:
                    inner = "{" + inner + "}"
                value, n = literal(inner, js=True)
                parts.append({"name": name, "json": value})
                notes.extend(n)
                if label:
                    notes.append("JSON.stringify(%s: {...}) is not valid JS" % label.group(1))
                continue
            parts.append({"name": name, "source": rest.rstrip(")")})
        k += 1
    if parts:
        request["multipart"] = parts
    return request, notes, end


def parse_response(lines, i, pending_status):
    """After `Example Response:`: optional status line, headers, JSON body."""
    response = {"status": None, "reason": None, "headers": {}, "body": None}
    if pending_status:
        response["status"], response["reason"] = pending_status
    if i < len(lines) and STATUS_LINE.match(lines[i]):
        m = STATUS_LINE.match(lines[i])
        response["status"], response["reason"] = int(m.group(1)), m.group(2)
        i += 1
    while i < len(lines) and HEADER_LINE.match(lines[i]):
        h = HEADER_LINE.match(lines[i])
        response["headers"][h.group(1)] = h.group(2)
        i += 1
    notes = []
    if i < len(lines) and lines[i][:1] in ("{", "["):
        text, i = balanced(lines, i)
        response["body"], notes = literal(text)
    return response, notes, i


def url_parts(url):
    m = re.match(r"^(https?|wss?)://([^/?]+)(/[^?]*)?(?:\?(.*))?$", url)
    if not m:
        raise ParseError("not a URL: %r" % url)
    query = {}
    if m.group(4):
        for pair in m.group(4).split("&"):
            k, _, v = pair.partition("=")
            query[k] = v
    return {"scheme": m.group(1), "host": m.group(2), "path": m.group(3) or "/", "query": query}


def parse_table(lines, i):
    """Rows `name type | description |` (optionally `| type |`) from line i."""
    rows = []
    while i < len(lines):
        line = lines[i].strip()
        if SEPARATOR_ROW.match(line) or line.startswith("Property |") or line.startswith("Query param |"):
            i += 1
            continue
        m = TABLE_ROW.match(line)
        if not m:
            break
        name, qualifier, description, column_type = m.groups()
        row = {"name": name, "description": description.strip()}
        kind = column_type or qualifier
        if kind in ("required", "optional"):
            row["presence"] = kind
            kind = column_type
        if kind:
            row["type"] = kind
        if row["description"].startswith("Required."):
            row["presence"] = "required"
        rows.append(row)
        i += 1
    return rows, i


FRAME_LABELS = {
    "Example Message:": "client",
    "Example Reply:": "server",
    "Example or reply": "server",
    "Example of advanced reply": "server",
    "Example Params": "params",
}


def parse_vanilla_js(lines):
    """The vanilla browser example (seed 000, and again at the end of seed 001)."""
    text = "\n".join(lines)
    out = []
    m = re.search(r"var socketInfoUrl = '([^']+)' \+ clientId \+ '([^']+)' \+ Date\.now\(\);", text)
    if not m:
        raise ParseError("socket.info URL not found in the vanilla example")
    url = url_parts(m.group(1) + "CLIENT_ID" + m.group(2) + "SESSION_ID")
    url["query"] = {"clientId": {"$js": "clientId"}, "sessionId": {"$js": "Date.now()"}}
    reads = []
    if "xhr.response.status !== 'ok'" in text:
        reads.append({"field": "status", "equals": "ok"})
    if "xhr.response.payload.endpoint" in text:
        reads.append({"field": "payload.endpoint"})
    out.append({"kind": "http", "source": "js", "request": {"method": "GET", "url": url}, "reads": reads})
    for idx, line in enumerate(lines):
        if line.strip().startswith("var message = {"):
            frame_text, _ = balanced(lines, idx, "{")
            frame, notes = literal(frame_text, js=True)
            part = {"kind": "frame", "direction": "client", "frame": frame}
            if notes:
                part["notes"] = notes
            out.append(part)
        if line.strip().startswith("wsSendMessage({"):
            frame_text, _ = balanced(lines, idx, "{")
            frame, _ = literal(frame_text, js=True)
            interval = re.search(r"\}, (\d+) \* 1000\)", text)
            part = {"kind": "frame", "direction": "client", "frame": frame}
            if interval:
                part["every_seconds"] = int(interval.group(1))
            out.append(part)
    if "ws.onmessage" in text and "JSON.parse(e.data)" in text:
        out.append({"kind": "reads", "what": "every server frame", "reads": [{"field": "$", "is": "JSON text"}]})
    return out


def parse_section_001(heading, part, body):
    """The parts (requests, responses, frames, objects, tables) of one section, in order."""
    parts = []
    pending_status = None
    label = None
    endpoint = None
    i = 0
    if heading == "Example":
        return parse_vanilla_js(body)
    if (heading, part) in RULE_SECTIONS_001:
        text = " ".join(line.strip() for line in body if line.strip())
        return [{"kind": "rule", "text": re.sub(r"\s+([.,])", r"\1", text)}]
    retrieves = None
    while i < len(body):
        line = body[i].strip()
        if not line:
            i += 1
            continue
        m = re.match(r"^This endpoint retrieves all (.+)\.$", line)
        if m:
            retrieves = m.group(1)
            i += 1
            continue
        if ENDPOINT_LINE.match(line) and endpoint is None:
            m = ENDPOINT_LINE.match(line)
            endpoint = {"method": m.group(1), "path": m.group(2)}
            # `GET /flows/info` followed by the answer: an example of its own.
            if i + 1 < len(body) and body[i + 1][:1] in ("{", "["):
                text, i = balanced(body, i + 1)
                value, notes = literal(text)
                parts.append({"kind": "http", "source": "endpoint", "request": dict(endpoint),
                              "response": {"status": None, "reason": None, "headers": {}, "body": value},
                              "notes": notes})
                continue
            i += 1
            continue
        if REQUEST_LINE.match(line):
            request, notes, i = parse_http_request(body, i)
            parts.append({"kind": "request", "source": "http", "request": request, "notes": notes})
            continue
        if line.startswith("const result = await request({"):
            request, notes, i = parse_js_request(body, i)
            parts.append({"kind": "request", "source": "js", "request": request, "notes": notes})
            continue
        if line.startswith("curl "):
            url = re.search(r'"(https?://[^"]+)"', line).group(1)
            headers = {}
            method = "GET"
            for h in re.findall(r"-H \"([^\"]+)\"", line):
                k, _, v = h.partition(": ")
                headers[k] = v
            j = i + 1
            while j < len(body) and body[j].startswith("-H "):
                k, _, v = body[j][4:-1].partition(": ")
                headers[k] = v
                j += 1
            request = {"method": method, "url": url_parts(url), "headers": headers}
            parts.append({"kind": "request", "source": "curl", "request": request, "notes": []})
            i = j
            continue
        m = re.search(r"url: '(https?://[^']+)'", line) or re.search(r'RestClient\("(https?://[^"]+)"\)', line) \
            or re.search(r'NSURL\(string: "(https?://[^"]+)"\)', line)
        if m:
            source = "node" if "url: '" in line else ("csharp" if "RestClient" in line else "swift")
            method = re.search(r"method: '(\w+)'", line)
            request = {"method": method.group(1) if method else "GET", "url": url_parts(m.group(1))}
            parts.append({"kind": "request", "source": source, "request": request, "notes": []})
            i += 1
            continue
        if STATUS_LINE.match(line):
            m = STATUS_LINE.match(line)
            pending_status = (int(m.group(1)), m.group(2))
            i += 1
            continue
        if line in ("Example Response:", "Example response:"):
            response, notes, i = parse_response(body, i + 1, pending_status)
            pending_status = None
            parts.append({"kind": "response", "response": response, "notes": notes})
            continue
        if line in FRAME_LABELS or line.endswith("For example:"):
            label = line
            i += 1
            continue
        if line == "Example Flow object:":
            label = "Example Flow object"
            i += 1
            continue
        if line == "Example" and i + 2 < len(body) and body[i + 2].strip() == "Step:":
            label = "Example %s Step" % body[i + 1].strip()
            i += 3
            continue
        if line[:1] in ("{", "["):
            if line == "{" and i + 1 < len(body) and body[i + 1].strip() == '"type": "...",':
                # The common format: a shape with placeholders, not a literal.
                end = i
                while body[end].strip() != "}" or end == i:
                    end += 1
                parts.append({"kind": "format", "shape": {"type": "...", "payload": {"...": "..."}}})
                i = end + 1
                continue
            text, i = balanced(body, i)
            value, notes = literal(text)
            if label in FRAME_LABELS or (label and label.endswith("For example:")):
                if label.endswith("For example:"):
                    label = "Example error"
                direction = "server" if label == "Example error" else FRAME_LABELS[label]
                if direction == "params":
                    parts.append({"kind": "params", "params": value, "notes": notes})
                else:
                    parts.append({"kind": "frame", "direction": direction, "frame": value,
                                  "label": label.rstrip(":"), "notes": notes})
            elif label:
                parts.append({"kind": "object", "label": label, "object": value, "notes": notes})
            else:
                raise ParseError("JSON without a label in section %r" % heading)
            continue
        if TABLE_ROW.match(line) or line.startswith("Property |") or line.startswith("Query param |"):
            rows, i = parse_table(body, i)
            if rows:
                parts.append({"kind": "table", "rows": rows, "label": _table_label(heading, body, i, rows)})
            continue
        m = re.match(r"^(message\.reply|message\.delivered|control\.handover) \|$", line)
        if m:
            description = body[i + 1].strip().rstrip("|").strip() if i + 1 < len(body) else ""
            parts.append({"kind": "event_type", "name": m.group(1), "description": description})
            i += 2
            continue
        i += 1
    if not parts and retrieves:
        # A listing named without its request (the Management API's other resources).
        parts.append({"kind": "listing", "retrieves": retrieves})
    return [dict(p, endpoint=endpoint) if p["kind"] in ("request", "response") else p for p in parts]


def _table_label(heading, body, end, rows):
    """The title line above the table (Arguments, Attributes, ...), else the section's heading."""
    start = end - len(rows)
    while start > 0 and (body[start - 1].startswith("Property |") or body[start - 1].startswith("Query param |")
                         or SEPARATOR_ROW.match(body[start - 1].strip())):
        start -= 1
    above = body[start - 1].strip() if start > 0 else ""
    return above if re.match(r"^[A-Z][A-Za-z ]{0,40}$", above) else heading


def examples_001(lines, empty):
    """The examples of seed 001; the sections that have none are appended to `empty`."""
    out = []
    for heading, part, body in sections(lines, HEADINGS_001):
        parts = parse_section_001(heading, part, body)
        section = "%s > %s" % (part, heading) if part != heading else heading
        if not parts:
            empty.append({"seed": SEED_001, "section": section})
            continue
        base = {"seed": SEED_001, "section": section}
        # A heading used twice (Authentication) is told apart by its part of the API.
        repeated = sum(1 for h, _ in HEADINGS_001 if slug(h) == slug(heading)) > 1
        out.extend(pair_examples(slug("%s %s" % (part, heading) if repeated else heading), base, parts))
    return out


def pair_examples(section_slug, base, parts):
    """Examples of a section: each request with the section's answer, frames, objects, tables.

    A request and the answer after it form one example; several requests before one answer
    (the same call written in several languages) each form an example with that answer.
    A client frame followed by the reply frame of a keep-alive forms one example."""
    out = []
    requests = [p for p in parts if p["kind"] == "request"]
    responses = [p for p in parts if p["kind"] == "response"]
    if len(responses) > 1:
        raise ParseError("more than one answer in section %s" % section_slug)
    response = responses[0] if responses else None
    n = 0

    def add(example):
        nonlocal n
        n += 1
        example = dict(base, id="%s/%s/%d" % (base["seed"][:3], section_slug, n), **example)
        if not example.get("notes"):
            example.pop("notes", None)
        decision = DECISIONS.get(example["id"])
        if decision:
            example["decision"] = decision
        out.append(example)

    for r in requests:
        ex = {"kind": "http", "source": r["source"], "request": r["request"]}
        if r.get("endpoint"):
            ex["endpoint"] = r["endpoint"]
        if response:
            ex["response"] = response["response"]
        notes = r["notes"] + (response["notes"] if response else [])
        ex["notes"] = notes
        add(ex)
    if response and not requests:
        add({"kind": "object", "label": "Example Response", "object": response["response"]["body"],
             "notes": response["notes"]})
    skip = set()
    for idx, p in enumerate(parts):
        if idx in skip or p["kind"] in ("request", "response"):
            continue
        if p["kind"] == "frame" and p["direction"] == "client" and idx + 1 < len(parts) \
                and parts[idx + 1]["kind"] == "frame" and parts[idx + 1].get("label") == "Example Reply":
            reply = parts[idx + 1]
            skip.add(idx + 1)
            add({"kind": "ws", "send": p["frame"], "expect": [reply["frame"]],
                 "notes": p.get("notes", []) + reply.get("notes", [])})
            continue
        ex = {k: v for k, v in p.items() if k != "endpoint"}
        add(ex)
    return out


# --- seed 000 ---------------------------------------------------------------------------


def examples_000(lines):
    base = {"seed": SEED_000, "section": "Vanilla JS example"}
    return pair_examples("vanilla-js-example", base, parse_vanilla_js(lines))


# --- seed 002 ---------------------------------------------------------------------------


def params_list(text):
    """`{session: session_id, text: text}` -> ["session", "text"]."""
    return re.findall(r"(\w+):", text)


def examples_002(lines):
    text = "\n".join(lines)
    found = []
    start = 0
    for heading in HEADINGS_002:
        for idx in range(start, len(lines)):
            if lines[idx].strip() == heading:
                found.append((idx, heading))
                start = idx + 1
                break
        else:
            raise ParseError("heading %r not found in seed 002" % heading)
    endpoint = re.search(r"Endpoint for the websocket: (wss://\S+)", text).group(1)
    out = []
    for n, (idx, heading) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else len(lines)
        body = "\n".join(lines[idx + 1:end])
        event = heading.split(": ", 1)[1] if heading.startswith("Message type: ") else None
        section = heading
        sid = slug(event or heading)
        base = {"seed": SEED_002, "section": section}
        parts = []
        if event == "join":
            m = re.search(r"socket\.channel\((`[^`]+`), (\{[^}]*\})\)", body)
            params, _ = literal(m.group(2), js=True)
            topic = m.group(1).strip("`")
            parts.append({"kind": "phoenix", "direction": "client", "endpoint": url_parts(endpoint),
                          "topic": topic, "event": "phx_join", "params": params,
                          "reply": {"status": "ok"}})
            reason = re.search(r"the server will return “(\w+)” if (.+?)\.", body)
            parts.append({"kind": "phoenix", "direction": "client", "endpoint": url_parts(endpoint),
                          "topic": topic, "event": "phx_join", "params": params,
                          "when": reason.group(2), "reply": {"status": "error", "reason": reason.group(1)}})
        elif event:
            direction = "server" if event.startswith("btu_") else "client"
            extra = re.search(r"Additional params: (\{[^}]*\})", body)
            sample = re.findall(r"\.push\('(\w+)', (\{[^}]*\})\)", body)
            reads = re.findall(r"resp\.(\w+)", body)
            part = {"kind": "phoenix", "direction": direction, "event": event}
            if extra:
                part["params"] = params_list(extra.group(1))
            optional = re.search(r"optional parameter (\w+)", body)
            if optional:
                part["optional"] = [optional.group(1)]
            if reads:
                part["reply"] = {"status": "ok", "response": reads}
            if direction == "server":
                filt = re.search(r"if \(this\.sessionId === payload\.(\w+)\)", body)
                if filt:
                    part["filter_by"] = filt.group(1)
            parts.append(part)
            for pushed, ptext in sample:
                params, _ = literal(ptext, js=True)
                parts.append({"kind": "phoenix", "direction": "client", "event": pushed,
                              "sample": params, "params": sorted(params.keys()) if isinstance(params, dict) else []})
        elif heading == "Sending images":
            up = re.search(r"perform a (POST) request \(not via websocket\) to (https://\S+) with the file attached in a (\w+) field", body)
            answer = re.search(r"respond with a JSON object like (\{[^}]*\})", body)
            value, _ = literal(answer.group(1), js=True)
            parts.append({"kind": "http", "source": "prose", "request": {"method": up.group(1), "url": url_parts(up.group(2)),
                          "multipart": [{"name": up.group(3), "file": True}]}, "response": {"body": value}})
            get = re.search(r"via a (GET) request to (https://\S+?)\.\s", body)
            parts.append({"kind": "http", "source": "prose", "request": {"method": get.group(1), "url": url_parts(get.group(2))},
                          "response": {"body": "the uploaded image"}})
        if not parts:
            continue
        n = 0
        for p in parts:
            n += 1
            ex = dict(base, id="002/%s/%d" % (sid, n), **p)
            if ex["id"] in DECISIONS:
                ex["decision"] = DECISIONS[ex["id"]]
            out.append(ex)
    return out


# --- seed 003 ---------------------------------------------------------------------------


def examples_003(lines):
    out = []
    found = []
    start = 0
    for heading in HEADINGS_003:
        for idx in range(start, len(lines)):
            if lines[idx].strip() == heading:
                found.append((idx, heading))
                start = idx + 1
                break
        else:
            raise ParseError("heading %r not found in seed 003" % heading)
    for n, (idx, heading) in enumerate(found[:-1]):
        body = lines[idx + 1:found[n + 1][0]]
        parts = []
        j = 0
        frame = None
        while j < len(body):
            if body[j].startswith("{"):
                text, j = balanced(body, j)
                frame, notes = literal(text)
                parts.append({"kind": "frame", "direction": "server", "frame": frame, "label": heading,
                              "notes": notes})
                continue
            if body[j].strip() == "ParameterDescriptionType":
                rows = []
                j += 1
                names = _field_names(frame)
                while j < len(body) and body[j].strip():
                    rows.append(_glued_row(body[j].strip(), names))
                    j += 1
                title = body[j - len(rows) - 3].strip()
                label = "Payload fields" if "payload" in title else "Message fields"
                parts.append({"kind": "table", "rows": rows, "label": label, "title": title})
                continue
            j += 1
        base = {"seed": SEED_003, "section": heading}
        out.extend(pair_examples(slug(heading), base, parts))
    return out


def _field_names(frame):
    names = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                names.add(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(frame)
    return sorted(names, key=len, reverse=True)


def _glued_row(line, names):
    """`replyToOptionally contains ...string`: the table's cells without separators."""
    for name in names:
        if line.startswith(name) and line[len(name):len(name) + 1].isupper():
            rest = line[len(name):]
            m = re.match(r"^(.*?)(string|array|object|boolean)$", rest)
            row = {"name": name, "description": m.group(1), "type": m.group(2)}
            if row["description"].startswith("Required."):
                row["presence"] = "required"
            return row
    raise ParseError("cannot split table row %r" % line)


# --- main -------------------------------------------------------------------------------


def extract(seeds_dir):
    def read(name):
        with open(os.path.join(seeds_dir, name), encoding="utf-8") as f:
            return f.read()

    texts = {name: read(name) for name in (SEED_000, SEED_001, SEED_002, SEED_003)}
    examples = []
    empty = []
    examples += examples_000(texts[SEED_000].splitlines())
    examples += examples_001(texts[SEED_001].splitlines(), empty)
    examples += examples_002(texts[SEED_002].splitlines())
    examples += examples_003(texts[SEED_003].splitlines())
    ids = [e["id"] for e in examples]
    if len(ids) != len(set(ids)):
        raise ParseError("duplicate example ids")
    unused = set(DECISIONS) - set(ids)
    if unused:
        raise ParseError("decisions for examples that do not exist: %s" % sorted(unused))
    return {
        "about": "Examples extracted from the seed documents by tests/fidelity/extract.py; do not edit by hand.",
        "seeds": {name: hashlib.sha256(t.encode("utf-8")).hexdigest() for name, t in sorted(texts.items())},
        "examples": examples,
        "sections_without_examples": empty,
    }


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    try:
        data = extract(argv[1])
    except (ParseError, OSError, AttributeError, ValueError, IndexError) as err:
        sys.stderr.write("extract.py: %s: %s\n" % (type(err).__name__, err))
        return 1
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if len(argv) == 3:
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
