"""The lexer the parser uses: Lark's contextual lexer, made fast for the common case.

Lark's contextual lexer keeps one scanner per parser state and, for every token, matches the
ignored whitespace and comments as tokens of their own, counts lines and columns, and builds
a scanner the first time each state is seen. On a 100,000-layer file that was half of the
parse, and on a small file most of its cost is compiling those scanners.

`FastContextualLexer` gives exactly the same tokens. It matches one regular expression built
from all the grammar's terminals, in Lark's order of preference (priority, then the longest a
terminal can match, then the length of its pattern, then name), with the ignored terminals
skipped in the same match. A terminal that the parser accepts in its current state is the one
Lark's lexer for that state would have chosen too: every terminal tried before it failed to
match here, and the state's lexer tries a subset of them in the same order. Keywords are names
whose text is a keyword; like Lark, they become the keyword where the parser accepts it and
stay a name elsewhere, so `add` can still label a layer. When the parser accepts neither (or
nothing matches), the token is handed to Lark's own lexer for that state, which also raises
Lark's usual errors. Tokens carry offsets only: diagnostics compute lines from offsets
themselves.
"""

from __future__ import annotations

import re

from lark import Token
from lark.lexer import ContextualLexer, LexerState, LineCounter, PatternRE, PatternStr

from .budget import COSTS, CURRENT


def _preference(term):
    """Lark's order for trying terminals (lark.lexer.BasicLexer._build_scanner)."""
    return -term.priority, -term.pattern.max_width, -len(term.pattern.value), term.name


class FastContextualLexer:
    """Drop-in for a Lark ContextualLexer (`lex(lexer_state, parser_state)`)."""

    def __init__(self, contextual: ContextualLexer, terminals, ignore) -> None:
        self.contextual = contextual
        strings = [t for t in terminals if isinstance(t.pattern, PatternStr)]
        regexps = [t for t in terminals if isinstance(t.pattern, PatternRE)]
        # Strings a regexp also matches whole (`add` is a NAME, `-` an ADD_OP) are found by
        # the regexp and then renamed, as Lark does (its "unless" callbacks).
        self.renames: dict[str, dict[str, str]] = {}
        embedded = set()
        for r in regexps:
            pattern = re.compile(r.pattern.to_regexp())
            for st in strings:
                if st.priority == r.priority and pattern.fullmatch(st.pattern.value):
                    self.renames.setdefault(r.name, {})[st.pattern.value] = st.name
                    embedded.add(st.name)
        ignored = [t for t in terminals if t.name in ignore]
        matched = sorted((t for t in terminals if t.name not in embedded and t.name not in ignore),
                         key=_preference)
        skip = "|".join(t.pattern.to_regexp() for t in ignored)
        alternatives = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in matched)
        # One match per token: the ignored text before it, then the token itself. The skip is
        # an atomic group: `(?:[ \t]+)*` followed by a failing match would otherwise retry
        # every split of a long run of spaces (exponential time).
        skip = f"(?>(?:{skip})*)" if skip else ""
        self.token = re.compile(f"{skip}(?:{alternatives})")
        self.skip = re.compile(skip)

    def lex(self, lexer_state: LexerState, parser_state):
        """The tokens, each charged to the run's work budget (dsl/budget.py) when there is one:
        counted here, where it costs an addition; `cap` is what is left of the budget."""
        budget = CURRENT.get()
        if budget is None:
            yield from self._lex(lexer_state, parser_state)
            return
        cap, made = budget.left // COSTS["token"], 0
        try:
            for token in self._lex(lexer_state, parser_state):
                made += 1
                if made > cap:
                    raise budget.out("token", token.start_pos)
                yield token
        finally:
            budget.charge("token", max(0, min(made, cap)))

    def _lex(self, lexer_state: LexerState, parser_state):
        source = lexer_state.text  # a lark TextSlice (a str in lark before 1.3)
        text = getattr(source, "text", source)
        pos, end = getattr(source, "start", 0), getattr(source, "end", len(text))
        states = parser_state.parse_conf.states
        match, renames, new = self.token.match, self.renames, str.__new__
        while pos < end:
            m = match(text, pos, end)
            if m is not None:
                kind = m.lastgroup
                start, stop = m.span(kind)
                value = text[start:stop]
                accepts = states[parser_state.position]
                if kind in renames:
                    keyword = renames[kind].get(value)
                    if keyword is not None and (keyword in accepts or kind not in accepts):
                        kind = keyword
                if kind in accepts:
                    # Token(kind, value, start, ...) without its constructor's two Python
                    # calls (a third of the lexer's time); the same attributes are set.
                    token = new(Token, value)
                    token.type, token.value = kind, value
                    token.start_pos, token.end_pos = start, stop
                    token.line = token.column = token.end_line = token.end_column = None
                    lexer_state.last_token = token
                    pos = stop
                    yield token
                    continue
            else:
                pos = self.skip.match(text, pos, end).end()  # only ignored text left?
                if pos >= end:
                    return
            token = self._lark_token(lexer_state, parser_state, text, pos)
            pos = token.end_pos
            yield token

    def _lark_token(self, lexer_state: LexerState, parser_state, text: str, pos: int) -> Token:
        """The token Lark's own lexer for this state finds at `pos` (or its error)."""
        counter = LineCounter("\n")
        counter.feed(text[:pos])
        state = LexerState(lexer_state.text, counter, lexer_state.last_token)
        token = next(self.contextual.lex(state, parser_state))
        lexer_state.last_token = token
        return token
