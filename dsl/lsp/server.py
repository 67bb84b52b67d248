"""`archdsl lsp`: the language server, on pygls over stdio.

This module only wires the protocol to `Workspace` and the feature modules: documents in,
diagnostics out (debounced after edits, at once on open), requests answered from the current
check. Every handler is guarded: a bug in a feature is logged to the client (window/logMessage)
and answered with an empty result, so the editor never loses its server over one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import traceback
from dataclasses import replace

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from .._version import __version__
from ..format import format_text
from .actions import code_actions
from .analysis import Settings
from .completion import completion
from .convert import uri_to_path
from .hover import hover
from .inlay import inlay_hints
from .navigation import definition, references
from .signature import signature_help
from .symbols import document_symbols, workspace_symbols
from .workspace import Workspace

DEBOUNCE = 0.15  # seconds after the last edit before diagnostics are published


class ArchServer(LanguageServer):
    def __init__(self, settings: Settings | None = None, debounce: float = DEBOUNCE):
        super().__init__("archdsl", __version__,
                         text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.settings = settings or Settings()
        self.debounce = debounce
        self.ws = Workspace(self.settings, log=self.log_error)
        self._timer: asyncio.TimerHandle | None = None
        self._published: dict[str, list] = {}
        self._checked: dict[str, int] = {}  # uri -> the check its inlay hints came from
        self.snippets = False
        self.refresh_hints = False  # the client takes workspace/inlayHint/refresh

    def log_error(self, message: str) -> None:
        with contextlib.suppress(Exception):  # no client to tell (not initialised, or gone)
            self.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Error,
                                                         message=message))

    # ------------------------------------------------------------------ diagnostics
    def publish(self) -> None:
        """Publish the diagnostics of every file whose list changed."""
        self._timer = None
        try:
            now = self.ws.diagnostics()
        except Exception:
            self.log_error("archdsl lsp: diagnostics failed:\n" + traceback.format_exc())
            return
        finally:
            self.ws.release()
        for uri in sorted(set(now) | set(self._published)):
            items = now.get(uri, [])
            if self._published.get(uri) == items:
                continue
            doc = self.ws.docs.get(uri)
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=uri, diagnostics=items, version=doc.version if doc else None))
            if items:
                self._published[uri] = items
            else:
                self._published.pop(uri, None)
        self._refresh_hints()

    def _refresh_hints(self) -> None:
        """Ask the client for new inlay hints when a document was checked again because a file
        it imports changed (the client asks by itself only for the document it edited)."""
        now = {uri: self.ws.generation(uri) for uri in self.ws.docs}
        changed = [u for u, a in now.items() if self._checked.get(u) not in (None, a)]
        self._checked = now
        if self.refresh_hints and len(changed) > 1:
            with contextlib.suppress(Exception):
                self.workspace_inlay_hint_refresh(None)

    def publish_soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.publish()
            return
        self._timer = loop.call_later(self.debounce, self.publish)


def guarded(default=None):
    """Run a handler; on an exception, log it to the client and answer `default`."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(ls: ArchServer, params):
            try:
                return fn(ls, params)
            except Exception:
                ls.log_error(f"archdsl lsp: {fn.__name__} failed:\n" + traceback.format_exc())
                return default() if callable(default) else default
            finally:
                ls.ws.release()  # between messages no feature holds a replaced check
        return inner
    return wrap


def build(settings: Settings | None = None, debounce: float = DEBOUNCE) -> ArchServer:
    server = ArchServer(settings, debounce)

    @server.feature(lsp.INITIALIZE)
    @guarded()
    def initialize(ls: ArchServer, params: lsp.InitializeParams):
        roots = []
        for folder in params.workspace_folders or []:
            path = uri_to_path(folder.uri)
            if path:
                roots.append(path)
        if not roots and params.root_uri and (path := uri_to_path(params.root_uri)):
            roots.append(path)
        ls.ws.roots = tuple(roots)
        encoding = ls.workspace.position_encoding
        ls.ws.pos.encoding = str(getattr(encoding, "value", encoding) or "utf-16")
        options = params.initialization_options or {}
        if isinstance(options, dict):
            extra = options.get("searchPath")
            if isinstance(extra, list) and all(isinstance(x, str) for x in extra):
                ls.ws.settings = replace(ls.settings,
                                         search_path=(*ls.settings.search_path, *extra))
        caps = params.capabilities.text_document
        item = caps.completion.completion_item if caps and caps.completion else None
        ls.snippets = bool(item and item.snippet_support)
        work = params.capabilities.workspace
        ls.refresh_hints = bool(work and work.inlay_hint and work.inlay_hint.refresh_support)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls: ArchServer, params: lsp.DidOpenTextDocumentParams):
        doc = params.text_document
        ls.ws.open(doc.uri, doc.text, doc.version)
        path = uri_to_path(doc.uri)
        if path:
            ls.ws.invalidate(path)  # checks that read the file from disk now read the buffer
        ls.publish()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls: ArchServer, params: lsp.DidChangeTextDocumentParams):
        changes = []
        for c in params.content_changes:
            if isinstance(c, lsp.TextDocumentContentChangePartial):
                r = c.range
                changes.append(((r.start.line, r.start.character),
                                (r.end.line, r.end.character), c.text))
            else:
                changes.append((None, None, c.text))
        ls.ws.change(params.text_document.uri, changes, params.text_document.version)
        ls.publish_soon()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(ls: ArchServer, params: lsp.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        ls.ws.close(uri)
        path = uri_to_path(uri)
        if path:
            ls.ws.invalidate(path)  # its importers read the file on disk again
        ls.publish()

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    @guarded()
    def did_save(ls: ArchServer, params: lsp.DidSaveTextDocumentParams):
        ls.publish_soon()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded()
    def watched(ls: ArchServer, params: lsp.DidChangeWatchedFilesParams):
        for change in params.changes:
            path = uri_to_path(change.uri)
            if path and ls.ws.buffer(path) is None:
                ls.ws.invalidate(path)
        ls.publish_soon()

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    @guarded()
    def on_hover(ls: ArchServer, params: lsp.HoverParams):
        return hover(ls.ws, params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    @guarded()
    def on_definition(ls: ArchServer, params: lsp.DefinitionParams):
        return definition(ls.ws, params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    @guarded()
    def on_references(ls: ArchServer, params: lsp.ReferenceParams):
        return references(ls.ws, params.text_document.uri, params.position,
                          params.context.include_declaration if params.context else True)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded(list)
    def on_symbols(ls: ArchServer, params: lsp.DocumentSymbolParams):
        return document_symbols(ls.ws, params.text_document.uri)

    @server.feature(lsp.WORKSPACE_SYMBOL)
    @guarded(list)
    def on_workspace_symbols(ls: ArchServer, params: lsp.WorkspaceSymbolParams):
        return workspace_symbols(ls.ws, params.query)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[".", '"', "/", "(", ",", "="]))
    @guarded()
    def on_completion(ls: ArchServer, params: lsp.CompletionParams):
        return completion(ls.ws, params.text_document.uri, params.position, ls.snippets)

    @server.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP,
                    lsp.SignatureHelpOptions(trigger_characters=["(", ","],
                                             retrigger_characters=["="]))
    @guarded()
    def on_signature(ls: ArchServer, params: lsp.SignatureHelpParams):
        return signature_help(ls.ws, params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    @guarded()
    def on_formatting(ls: ArchServer, params: lsp.DocumentFormattingParams):
        return formatting(ls.ws, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    @guarded(list)
    def on_code_action(ls: ArchServer, params: lsp.CodeActionParams):
        return code_actions(ls.ws, params.text_document.uri, params.range,
                            params.context.diagnostics if params.context else None)

    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
    @guarded(list)
    def on_inlay(ls: ArchServer, params: lsp.InlayHintParams):
        return inlay_hints(ls.ws, params.text_document.uri, params.range)

    return server


def formatting(ws: Workspace, uri: str) -> list[lsp.TextEdit] | None:
    """The formatter's output as one edit of the whole document; none when the text does not
    parse (the diagnostics already say why) or is already formatted."""
    from ..diagnostics import ArchError

    doc = ws.docs.get(uri)
    if doc is None:
        return None
    try:
        out = format_text(doc.text, uri_to_path(uri) or uri)
    except ArchError:
        return None
    if out == doc.text:
        return []
    end = ws.pos.position(doc.text, len(doc.text))
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                         new_text=out)]


def serve(settings: Settings | None = None, debounce: float = DEBOUNCE) -> int:
    build(settings, debounce).start_io()
    return 0
