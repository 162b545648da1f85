"""A small web back end over a ledger, with only the standard library (``wsgiref``).

Contents:
    1. ``make_app``: a WSGI application. Signers are loaded once, when the application
       is made, and so is one ``SharedWriter``: every request thread appends through it,
       and appends that arrive together share one durable commit (group commit). Reads
       open a read-only ``Ledger`` in the request (a Ledger belongs to the thread that
       opened it) and close it before answering.
    2. ``POST /awards``: award points for a catalogue service (JSON in, JSON out);
       ``201`` when the entry is created, ``200`` when the same award was already there.
    3. ``GET /balance/ACCOUNT``: an account's points.
    4. Errors: every ``LedgerError`` becomes a JSON answer whose HTTP status is chosen by
       ``error.code`` (:data:`STATUS_BY_CODE`), so the client can act on it.
    5. ``serve``: a threaded ``wsgiref`` server, one thread per request.
    6. ``demo``: set up a ledger in a temporary folder, start the server on a free port,
       send a few requests and print the answers.

Run ``python examples/web_app.py`` for the demo, or ``python examples/web_app.py
--serve`` to keep the server running on http://127.0.0.1:8000 (Ctrl-C stops it). A
production server (gunicorn, uWSGI, waitress) runs the same ``make_app`` application.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import socketserver
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from points_ledger import (
    AccountKind,
    Asset,
    AwardPoints,
    DefineService,
    KeySpec,
    Ledger,
    LedgerError,
    OpenAccount,
    RegisterKey,
    Role,
    ServiceUnit,
    SharedWriter,
    Signer,
    load_signer,
    save_signer,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

STATUS_BY_CODE: Final[dict[str, int]] = {
    "invalid_event": 400,
    "effective_date_out_of_range": 400,
    "event_expired": 400,
    "not_authorized": 403,
    "bad_signature": 403,
    "key_revoked": 403,
    "unknown_key": 403,
    "not_found": 404,
    "unknown_account": 404,
    "entry_conflict": 409,
    "duplicate_task": 409,
    "insufficient_balance": 409,
    "limit_exceeded": 422,
    "storage_error": 503,
    "wrong_thread": 500,
    "integrity_failure": 500,
}
"""HTTP status for each error code; any other ``LedgerError`` is a ``422``."""

REASONS: Final = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
BODY_BYTES_MAX: Final = 64 * 1024

log = logging.getLogger("web_app")


def _answer(start_response: StartResponse, status: int, body: object) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    start_response(
        f"{status} {REASONS[status]}",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 < length <= BODY_BYTES_MAX:
        raise ValueError(f"the body must be JSON of 1 to {BODY_BYTES_MAX} bytes")
    document = json.loads(environ["wsgi.input"].read(length))
    if not isinstance(document, dict):
        raise ValueError("the body must be a JSON object")
    return document


def make_app(
    ledger_path: Path,
    signers: Sequence[Signer],
    writer: SharedWriter,
    *,
    clock: Callable[[], dt.datetime] | None = None,
) -> WsgiApp:
    """The WSGI application for the ledger at ``ledger_path``, signing with ``signers``.

    ``signers`` and ``writer`` (the process's one :class:`SharedWriter` for this ledger)
    are made by the caller, once, at start-up; every request thread appends through the
    writer, and reads open the ledger read-only inside the request.
    """
    options: dict[str, Any] = {} if clock is None else {"clock": clock}

    def award(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        body = _read_json(environ)
        event = AwardPoints(
            id=body["id"],
            effective_at=dt.date.fromisoformat(body["date"]),
            volunteer=body["volunteer"],
            service=body["service"],
            quantity=body.get("quantity", 1),
            grid_cell=body["cell"],
            task_ref=body["task"],
        )
        try:
            result = writer.append(event, signers)  # returns once the entry is durable
        except LedgerError as e:
            if "committed_seq" not in e.details:
                raise  # refused: nothing was written
            # Stored all the same; only the checkpoint due after it was refused. Tell the
            # client it is done (a client told "failed" would send it again), and raise
            # the alarm here.
            log.error("entry stored, but: %s", e.diagnostics())
            done = {"seq": e.details["committed_seq"], "status": e.details["status"]}
            return _answer(start_response, 201 if done["status"] == "created" else 200, done)
        paid = sum(p.amount for p in result.entry.postings if p.amount > 0)
        status = 201 if result.created else 200
        answer = {"seq": result.entry.seq, "status": result.status, "points": paid}
        return _answer(start_response, status, answer)

    def balance(account: str, start_response: StartResponse) -> list[bytes]:
        with Ledger.open(ledger_path, read_only=True, **options) as ledger:
            found = ledger.balance(account, Asset.PTS)
        answer = {"account": account, "posted": found.posted, "available": found.available}
        return _answer(start_response, 200, answer)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        try:
            if method == "POST" and path == "/awards":
                return award(environ, start_response)
            if method == "GET" and path.startswith("/balance/"):
                return balance(path.removeprefix("/balance/"), start_response)
            return _answer(start_response, 404, {"code": "no_route", "message": path})
        except LedgerError as e:
            status = STATUS_BY_CODE.get(e.code, 422)
            log.info("refused %s %s: [%s] %s", method, path, e.code, e.message)
            error = {"code": e.code, "message": e.message, "hint": e.hint}
            return _answer(start_response, status, error)
        except (KeyError, ValueError, TypeError) as e:  # a malformed request body
            message = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            return _answer(start_response, 400, {"code": "bad_request", "message": message})

    return app


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """``wsgiref``'s server with one thread per request."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    """A request handler that logs through ``logging`` instead of printing every request."""

    def log_message(self, format: str, *args: Any) -> None:
        """Log one request line at DEBUG level."""
        log.debug(format, *args)


def serve(app: WsgiApp, host: str = "127.0.0.1", port: int = 8000) -> ThreadingWSGIServer:
    """A threaded server for ``app`` bound to ``host:port`` (port 0: any free port)."""
    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=QuietHandler)
    assert isinstance(server, ThreadingWSGIServer)
    return server


TODAY = dt.date(2026, 11, 25)


def story_clock() -> dt.datetime:
    """10:00 in Chengdu on TODAY, so the demo reads the same any day (real apps leave it out)."""
    return dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


def set_up(folder: Path, passphrase: str) -> tuple[Path, Path]:
    """A ledger with a service, volunteers and a grid worker's issuer key file."""
    admin, worker = Signer.generate(), Signer.generate()
    path = folder / "community.db"
    with Ledger.create(
        path,
        origin="chengdu.example/chenghua/zhiqiang",
        log_key=Signer.generate(),
        admins=[admin],
        threshold=1,
        clock=story_clock,
    ) as ledger:
        opened = [("worker:g1", AccountKind.MEMBER)] + [
            (f"vol:{n:04d}", AccountKind.MEMBER) for n in range(1, 4)
        ]
        events: list[Any] = [
            OpenAccount(id=f"open-{a}", effective_at=TODAY, account=a, account_kind=kind)
            for a, kind in opened
        ]
        events.append(
            RegisterKey(
                id="key-worker-g1",
                effective_at=TODAY,
                key=KeySpec(
                    public_key=worker.public_key_b64, roles=(Role.ISSUER,), owner="worker:g1"
                ),
            )
        )
        events.append(
            DefineService(
                id="service-elder-visit",
                effective_at=TODAY,
                code="elder-visit",
                name="探访独居老人",
                points_per_unit=20,
                unit=ServiceUnit.VISIT,
                active_from=TODAY,
            )
        )
        ledger.append_many([(event, [admin]) for event in events])
    key_file = folder / "worker-g1.key"
    save_signer(worker, key_file, passphrase)
    return path, key_file


def request(url: str, body: object | None = None) -> tuple[int, Any]:
    """Send one request (POST when there is a body) and return the status and JSON answer."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    call = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, json.loads(e.read())


def demo(folder: Path) -> None:
    """Set up a ledger, serve it on a free port and show a few requests."""
    passphrase = "a demo passphrase"
    path, key_file = set_up(folder, passphrase)
    writer = SharedWriter.open(path, clock=story_clock)  # one per process, at start-up
    app = make_app(path, [load_signer(key_file, passphrase)], writer, clock=story_clock)
    server = serve(app, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    visit = {
        "id": "award-visit-0001",
        "date": TODAY.isoformat(),
        "volunteer": "vol:0001",
        "service": "elder-visit",
        "cell": "g1",
        "task": "visit-0001",
    }
    try:
        for label, url, body in (
            ("award", f"{base}/awards", visit),
            ("the same award again", f"{base}/awards", visit),
            ("same id, other content", f"{base}/awards", {**visit, "quantity": 2}),
            ("unknown volunteer", f"{base}/awards", {**visit, "id": "a2", "volunteer": "vol:9"}),
            ("balance", f"{base}/balance/vol:0001", None),
        ):
            status, answer = request(url, body)
            print(f"{label:<24} {status} {json.dumps(answer, ensure_ascii=False)}")
    finally:
        server.shutdown()
        server.server_close()
        writer.close()


def main(argv: Sequence[str]) -> None:
    """Run the demo, or with ``--serve`` keep a demo ledger served on port 8000."""
    with tempfile.TemporaryDirectory() as tmp:
        if "--serve" not in argv:
            demo(Path(tmp))
            return
        logging.basicConfig(level=logging.INFO)
        path, key_file = set_up(Path(tmp), "a demo passphrase")
        signers = [load_signer(key_file, "a demo passphrase")]
        with (
            SharedWriter.open(path, clock=story_clock) as writer,
            serve(make_app(path, signers, writer, clock=story_clock)) as server,
        ):
            print("serving on http://127.0.0.1:8000 (Ctrl-C stops)")
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
