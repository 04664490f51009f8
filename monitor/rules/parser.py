"""Recursive-descent parser for the rule language; one precedence, documented in
docs/rule-language.md, from loosest to tightest::

    query   := or EOF
    or      := and ( "OR" and )*
    and     := unary ( ["AND"] unary )*          adjacent terms mean AND
    unary   := "NOT" unary | prox
    prox    := primary ( (NEAR/n | ONEAR/n | SENTENCE | PARAGRAPH) primary )*
    primary := WORD | PREFIX* | "PHRASE" | @concept | field:primary | meta:value | "(" or ")"

Syntax errors raise :class:`monitor.errors.RuleSyntaxError` with the 1-based column. So does a
query nested deeper than :data:`~monitor.rules.syntax.MAX_QUERY_DEPTH` (parentheses, NOT, field
scopes and chained proximity operators all count), before Python's recursion limit is reached.
"""

from __future__ import annotations

from monitor.errors import RuleSyntaxError
from monitor.rules.lexer import Lexeme, lex
from monitor.rules.normalize import fold, query_words
from monitor.rules.syntax import (
    MAX_QUERY_DEPTH,
    And,
    ConceptRef,
    Field,
    Matcher,
    Meta,
    Node,
    Not,
    Or,
    Proximity,
    Term,
    depth,
)

MIN_PREFIX = 3
_STARTS_OPERAND = frozenset({"WORD", "PHRASE", "LPAREN", "NOT", "FIELD", "META", "CONCEPT"})


def parse(query: str) -> Node:
    """Parse one query into its syntax tree."""
    return _Parser(query).parse()


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = lex(query)
        self.pos = 0
        self.nesting = 0

    def enter(self, token: Lexeme) -> None:
        """Count one level of recursion; refuse the query past MAX_QUERY_DEPTH."""
        self.nesting += 1
        if self.nesting > MAX_QUERY_DEPTH:
            raise self.error(too_deep(), token)

    def parse(self) -> Node:
        if self.peek.kind == "EOF":
            raise self.error("empty query", self.peek)
        node = self.parse_or()
        if self.peek.kind == "RPAREN":
            raise self.error("unbalanced ')'", self.peek)
        if self.peek.kind != "EOF":
            raise self.error(f"unexpected '{self.peek.text}'", self.peek)
        levels, column = depth(node)
        if levels > MAX_QUERY_DEPTH:
            raise RuleSyntaxError(too_deep(), self.query, column)
        return node

    @property
    def peek(self) -> Lexeme:
        return self.tokens[self.pos]

    def advance(self) -> Lexeme:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def error(self, message: str, token: Lexeme) -> RuleSyntaxError:
        return RuleSyntaxError(message, self.query, token.column)

    def source(self, start: int) -> str:
        return self.query[start : self.tokens[self.pos - 1].end]

    def parse_or(self) -> Node:
        start = self.peek
        children = [self.parse_and()]
        while self.peek.kind == "OR":
            self.expect_operand(self.advance())
            children.append(self.parse_and())
        if len(children) == 1:
            return children[0]
        return Or(tuple(children), self.source(start.start), start.column)

    def parse_and(self) -> Node:
        start = self.peek
        children = [self.parse_unary()]
        while self.peek.kind == "AND" or self.peek.kind in _STARTS_OPERAND:
            if self.peek.kind == "AND":
                self.expect_operand(self.advance())
            children.append(self.parse_unary())
        if len(children) == 1:
            return children[0]
        return And(tuple(children), self.source(start.start), start.column)

    def parse_unary(self) -> Node:
        if self.peek.kind == "NOT":
            start = self.advance()
            self.expect_operand(start)
            self.enter(start)
            child = self.parse_unary()
            self.nesting -= 1
            return Not(child, self.source(start.start), start.column)
        return self.parse_prox()

    def parse_prox(self) -> Node:
        start = self.peek
        node = self.parse_primary()
        chain = 0
        while self.peek.kind == "PROX":
            op = self.advance()
            chain += 1
            if self.nesting + chain >= MAX_QUERY_DEPTH:
                raise self.error(too_deep(), op)
            if self.peek.kind == "NOT":
                raise self.error(f"{op.text} needs words on its right, not NOT", self.peek)
            self.expect_operand(op)
            right = self.parse_primary()
            for side in (node, right):
                if not _positional(side):
                    raise RuleSyntaxError(
                        f"{op.text} needs words on both sides (NOT and metadata filters have "
                        "no position)",
                        self.query,
                        side.column,
                    )
            unit = op.text if op.distance is None else None
            node = Proximity(
                node,
                right,
                op.distance,
                op.text == "ONEAR",
                unit,
                self.source(start.start),
                start.column,
                op.column,
            )
        return node

    def expect_operand(self, op: Lexeme) -> None:
        if self.peek.kind not in _STARTS_OPERAND:
            where = "at the end" if self.peek.kind == "EOF" else f"before '{self.peek.text}'"
            raise self.error(f"{op.text} needs a term after it, found nothing {where}", self.peek)

    def parse_primary(self) -> Node:
        token = self.advance()
        if token.kind == "LPAREN":
            if self.peek.kind == "RPAREN":
                raise self.error("empty parentheses", self.peek)
            self.enter(token)
            node = self.parse_or()
            self.nesting -= 1
            if self.peek.kind != "RPAREN":
                raise RuleSyntaxError(
                    f"missing ')' to close the '(' of column {token.column}",
                    self.query,
                    self.peek.column,
                )
            self.advance()
            return node
        if token.kind in ("WORD", "PHRASE"):
            return self.term(token)
        if token.kind == "CONCEPT":
            return ConceptRef(token.text, self.query[token.start : token.end], token.column)
        if token.kind == "META":
            key, value = token.text.split(":", 1)
            return Meta(
                key,
                fold(value) if key != "source" else value.casefold(),
                self.query[token.start : token.end],
                token.column,
            )
        if token.kind == "FIELD":
            if self.peek.kind not in ("WORD", "PHRASE", "LPAREN", "CONCEPT"):
                raise self.error(f"'{token.text}:' needs a term or '(...)' after it", self.peek)
            self.enter(token)
            child = self.parse_primary()
            self.nesting -= 1
            return Field(token.text, child, self.source(token.start), token.column)
        if token.kind == "RPAREN":
            raise self.error("unbalanced ')'", token)
        if token.kind == "EOF":
            raise self.error("query ends where a term is expected", token)
        raise self.error(f"'{token.text}' cannot start a term", token)

    def term(self, token: Lexeme) -> Term:
        raw_words = token.text.split()
        matchers: list[Matcher] = []
        for raw in raw_words:
            prefix = raw.endswith("*")
            core = raw[:-1] if prefix else raw
            if "*" in core or "?" in core:
                raise self.error("wildcards are only allowed at the end of a word", token)
            words = query_words(core)
            if prefix and not words:
                raise self.error("a wildcard needs letters before it", token)
            if prefix and len(words[-1]) < MIN_PREFIX:
                raise self.error(f"a prefix needs at least {MIN_PREFIX} letters: '{raw}'", token)
            matchers += [(word, False) for word in words[:-1]]
            if words:
                matchers.append((words[-1], prefix))
        if not matchers:
            raise self.error(f"no searchable word in '{token.text}'", token)
        return Term(tuple(matchers), self.query[token.start : token.end], token.column)


def _positional(node: Node) -> bool:
    if isinstance(node, Not | Meta):
        return False
    if isinstance(node, Or):
        return all(_positional(child) for child in node.children)
    if isinstance(node, And):
        return any(_positional(child) for child in node.children)
    if isinstance(node, Field):
        return _positional(node.child)
    return True


def too_deep() -> str:
    return (
        f"the query is nested too deeply (more than {MAX_QUERY_DEPTH} levels of parentheses, "
        "NOT, fields and proximity operators)"
    )
