"""Rich renderings of explanations for the command line: the clause tree and highlighted passages.

Article and query text are inserted as plain :class:`rich.text.Text`, never as markup, so text
from a feed cannot inject styles. Long alternatives lists (a gazetteer concept) show their true
members and the number of false ones.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from monitor.rules.explain import Clause, Explanation, Passage

COLLAPSE_OVER = 5
HIGHLIGHT = "bold black on yellow"


def clause_label(clause: Clause) -> Text:
    """``✓ AND  @wagner AND @sahel`` in green, or ``✗ ...`` in red."""
    mark, style = ("✓", "green") if clause.value else ("✗", "red")
    label = Text(f"{mark} ", style=f"bold {style}")
    label.append(clause.operator, style="bold")
    if clause.source != clause.operator:
        label.append("  ")
        label.append(_shorten(clause.source), style=style)
    return label


def clause_tree(clause: Clause, tree: Tree | None = None) -> Tree:
    """The clause and its children as a rich Tree with true/false marks."""
    node = Tree(clause_label(clause)) if tree is None else tree.add(clause_label(clause))
    children = clause.children
    hidden = 0
    if clause.operator == "OR" and len(children) > COLLAPSE_OVER:
        shown = tuple(c for c in children if c.value)
        hidden = len(children) - len(shown)
        children = shown
    for child in children:
        clause_tree(child, node)
    if hidden:
        node.add(Text(f"… {hidden} other alternative(s), all false", style="dim"))
    return node


def passage_text(passage: Passage) -> Text:
    """The passage with its matched words highlighted, prefixed with field and clause."""
    text = Text(f"[{passage.field}] ", style="dim")
    body = Text(passage.text.replace("\n", " "))
    for start, end in passage.highlights:
        body.stylize(HIGHLIGHT, start, end)
    text.append_text(body)
    text.append(f"  ← {passage.clause}", style="cyan")
    return text


def explanation_view(explanation: Explanation) -> RenderableType:
    """Verdict, clause tree and passages, ready for ``console.print``."""
    verdict = Text(
        "MATCH" if explanation.matched else "no match",
        style="bold green" if explanation.matched else "bold red",
    )
    parts: list[RenderableType] = [verdict]
    if explanation.filtered:
        parts.append(Text(f"filtered out: {explanation.filtered}", style="yellow"))
    parts.extend(Text(f"note: {note}", style="yellow") for note in explanation.notes)
    parts.append(clause_tree(explanation.root))
    parts.extend(passage_text(p) for p in explanation.passages)
    return Group(*parts)


def _shorten(source: str, limit: int = 90) -> str:
    flat = " ".join(source.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
