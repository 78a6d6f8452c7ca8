"""HTTP to the teacher's dashboard, with the standard library only (no proxy: the dashboard
is in the room). Every call has a timeout; a network failure is `Unreachable`."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from labrunner.classroom import wire
from labrunner.errors import UsageError

TIMEOUT = 5.0
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Unreachable(Exception):
    """The server did not answer (down, wrong address, no network)."""


def base_url(url: str) -> str:
    """The dashboard's address as typed by a learner ("10.0.0.5:8470" is fine too)."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"'{url}' is not a dashboard address",
                         "use the URL your teacher's `labrunner class serve` printed, e.g. http://10.0.0.5:8470")
    return f"{parts.scheme}://{parts.netloc}"


def call(url: str, path: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
    """POST `body` (JSON); (status, JSON reply). Raises Unreachable when nothing answers."""
    request = urllib.request.Request(url + path, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _json(exc.read())
    except (urllib.error.URLError, OSError, socket.timeout, ConnectionError) as exc:
        raise Unreachable(str(getattr(exc, "reason", exc))) from None


def _json(raw: bytes) -> dict:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def join(url: str, name: str, code: str) -> dict:
    body = json.dumps({"name": name, "code": code}).encode("utf-8")
    return call(url, "/api/join", body)


def signed(membership: dict, seq: int, payload: dict) -> tuple[bytes, dict]:
    body = json.dumps({"learner": membership["learner"], "seq": seq, **payload},
                      separators=(",", ":")).encode("utf-8")
    headers = {wire.TOKEN_HEADER: membership["token"],
               wire.SIGNATURE_HEADER: wire.sign(bytes.fromhex(membership["key"]), body)}
    return body, headers


def submit(membership: dict, seq: int, results: list[dict]) -> tuple[int, dict]:
    body, headers = signed(membership, seq, {"results": results})
    return call(membership["url"], "/api/results", body, headers)


def leave(membership: dict, seq: int) -> tuple[int, dict]:
    body, headers = signed(membership, seq, {"leave": True})
    return call(membership["url"], "/api/leave", body, headers)
