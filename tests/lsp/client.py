"""A small editor for tests: starts `archdsl lsp` as a subprocess and speaks JSON-RPC to it
over stdio with the protocol's framing (Content-Length headers), as VS Code or Neovim do.

Written against the protocol, not against pygls, so it checks what travels on the wire.
Requests block until their answer (with a timeout); notifications from the server (published
diagnostics, log messages) are collected as they arrive."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

TIMEOUT = 60.0  # seconds for one answer (a loaded CI machine is slow, a hang is not)


class ServerError(AssertionError):
    """The server answered a request with an error."""


class Client:
    def __init__(self, *args: str, cwd: str | os.PathLike | None = None,
                 env: dict | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "archdsl.cli", "lsp", *args], cwd=cwd,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})})
        self._next = 0
        self._answers: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.notifications: list[dict] = []
        self._new = threading.Condition()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    # ------------------------------------------------------------------ wire
    def _send(self, message: dict) -> None:
        body = json.dumps(message).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = out.read(int(headers["content-length"]))
            message = json.loads(body)
            if "id" in message and "method" not in message:
                with self._lock:
                    q = self._answers.setdefault(message["id"], queue.Queue())
                q.put(message)
            elif "id" in message:  # a request from the server (e.g. a refresh): say yes
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                self._note(message)
            else:
                self._note(message)

    def _note(self, message: dict) -> None:
        with self._new:
            self.notifications.append(message)
            self._new.notify_all()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)

    # ------------------------------------------------------------------ API
    def request(self, method: str, params=None, timeout: float = TIMEOUT):
        with self._lock:
            self._next += 1
            mid = self._next
            q = self._answers.setdefault(mid, queue.Queue())
        self._send({"jsonrpc": "2.0", "id": mid, "method": method, "params": params})
        try:
            answer = q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer to {method} within {timeout} s") from None
        if "error" in answer:
            raise ServerError(f"{method}: {answer['error']}")
        return answer.get("result")

    def notify(self, method: str, params=None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(self, predicate, timeout: float = TIMEOUT, after: int = 0) -> dict:
        """The first notification from index `after` on for which `predicate` is true."""
        deadline = time.monotonic() + timeout
        with self._new:
            seen = after
            while True:
                for m in self.notifications[seen:]:
                    if predicate(m):
                        return m
                seen = max(seen, len(self.notifications))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no such notification within "
                                         f"{timeout} s; got: {self.notifications[-5:]}")
                self._new.wait(left)

    def diagnostics(self, uri: str, after: int = 0, timeout: float = TIMEOUT,
                    where=None) -> list[dict]:
        """The first diagnostics published for `uri` among the notifications from index
        `after` (and for which `where(diagnostics)` holds, when given)."""
        def match(m):
            return m.get("method") == "textDocument/publishDiagnostics" and \
                m["params"]["uri"] == uri and \
                (where is None or where(m["params"]["diagnostics"]))
        return self.wait_for(match, timeout, after)["params"]["diagnostics"]

    def mark(self) -> int:
        with self._new:
            return len(self.notifications)

    def errors_logged(self) -> list[str]:
        return [m["params"]["message"] for m in self.notifications
                if m.get("method") == "window/logMessage" and m["params"]["type"] == 1]

    # ------------------------------------------------------------------ editor verbs
    def initialize(self, root: str | os.PathLike, options: dict | None = None,
                   encodings=("utf-16",)) -> dict:
        root_uri = Path(root).resolve().as_uri()
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "root"}],
            "initializationOptions": options or {},
            "capabilities": {
                "general": {"positionEncodings": list(encodings)},
                "textDocument": {
                    "completion": {"completionItem": {"snippetSupport": True}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "publishDiagnostics": {"relatedInformation": True},
                    "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
                    "inlayHint": {}, "codeAction": {}, "formatting": {}},
                "workspace": {"workspaceFolders": True,
                              "inlayHint": {"refreshSupport": True}}}})
        self.notify("initialized", {})
        return result

    def open(self, path: str | os.PathLike, text: str | None = None, version: int = 1) -> str:
        uri = Path(path).resolve().as_uri()
        if text is None:
            text = Path(path).read_text(encoding="utf-8")
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "arch", "version": version, "text": text}})
        return uri

    def change(self, uri: str, version: int, text: str | None = None, rng=None,
               new: str = "") -> None:
        change = {"text": text} if rng is None else {"range": rng, "text": new}
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [change]})

    def at(self, method: str, uri: str, line: int, character: int, **extra):
        return self.request(method, {"textDocument": {"uri": uri},
                                     "position": {"line": line, "character": character},
                                     **extra})

    def close(self) -> int:
        """shutdown, exit; the server's exit status."""
        try:
            self.request("shutdown", None, timeout=30)
            self.notify("exit", None)
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            try:
                self.close()
            except Exception:
                self.proc.kill()
                self.proc.wait()
