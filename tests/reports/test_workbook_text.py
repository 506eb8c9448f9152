"""User text made safe: control characters stripped, formula triggers detected, sheet titles valid."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annoplan.reports.text import MAX_CELL_CHARS, clean_text, needs_quote_prefix, sheet_title


def test_control_characters_are_stripped_and_layout_is_kept() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x7f\te\nf\r\ng\rh") == "abcd\te\nf\ng\nh"


def test_bidirectional_overrides_and_xml_non_characters_are_stripped() -> None:
    assert clean_text("invoice\u202egnp.exe\ufffe") == "invoicegnp.exe"


def test_text_is_cut_to_what_a_cell_holds() -> None:
    assert len(clean_text("x" * (MAX_CELL_CHARS + 10))) == MAX_CELL_CHARS


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "  =1", "\uff1d1+1"],
)
def test_text_starting_like_a_formula_needs_the_quote_prefix(text: str) -> None:
    assert needs_quote_prefix(text)


@pytest.mark.parametrize("text", ["Hybrid", "a=b", "1-2", "", "USD", "50% = half"])
def test_plain_text_needs_no_quote_prefix(text: str) -> None:
    assert not needs_quote_prefix(text)


def test_sheet_titles_lose_forbidden_characters_and_fit_31_characters() -> None:
    title = sheet_title("'Q3 [draft]: costs/vendors*? \\ and more words than fit'")
    assert title == "Q3 _draft__ costs_vendors__ _ a"
    assert len(title) == 31


def test_sheet_titles_are_unique_and_never_blank_or_reserved() -> None:
    assert sheet_title("Costs", {"costs"}) == "Costs (2)"
    assert sheet_title("Costs", {"Costs", "Costs (2)"}) == "Costs (3)"
    assert sheet_title("\x00\x01 ") == "Sheet"
    assert sheet_title("History") == "History_"


@given(st.text(max_size=60), st.sets(st.text(max_size=35), max_size=5))
def test_any_text_gives_a_valid_sheet_title(text: str, taken: set[str]) -> None:
    title = sheet_title(text, taken)
    assert 1 <= len(title) <= 31
    assert not set(title) & set("[]:*?/\\")
    assert not title.startswith("'") and not title.endswith("'")
    assert title.casefold() not in {t.casefold() for t in taken}
    assert title == clean_text(title)
