"""The folded view undoes evasion, and every folded character maps back to the original text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewshield.screening.normalize import normalize, normalize_many, offsets, original_span


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("傻 逼", "傻逼"),  # a space between the characters
        ("傻\u200b逼", "傻逼"),  # zero-width space
        ("傻\u200d逼\ufeff", "傻逼"),  # zero-width joiner, byte-order mark
        ("傻★逼", "傻逼"),  # a symbol as noise
        ("傻，逼！", "傻逼"),  # full-width punctuation
        ("ＳＨＡ ＢＩ", "shabi"),  # full-width letters and case
        ("shǎ bī", "shabi"),  # tone marks
        ("頭髮後來", "头发后来"),  # traditional characters
        ("弄死妳", "弄死你"),  # a variant character
        ("k.i.l.l", "kiii"),  # letters split by dots; l and i are one letter
        ("K1ll", "kiii"),  # digit for a letter
        ("ki11", "kiii"),
        ("𝐤𝐢𝐥𝐥", "kiii"),  # mathematical bold letters
        ("кill", "kiii"),  # a Cyrillic look-alike
        ("k̶i̶l̶l̶", "kiii"),  # strike-through combining marks
        ("@$$", "ass"),  # symbols for letters
        ("幺三八一二三四五六七八", normalize("13812345678")),  # a phone number read out in characters
        ("１３８１２３４５６７８", normalize("13812345678")),  # full-width digits
        ("⚰️寿衣", "⚰寿衣"),  # a meaningful symbol stays, its variation selector goes
    ],
)
def test_evasion_folds_to_the_plain_spelling(written: str, folded: str) -> None:
    assert normalize(written) == folded


def test_the_batch_form_gives_the_same_views_as_one_by_one() -> None:
    texts = ["Hi, your parcel shipped!", "亲，您的快递已发出，单号SF123", "ＳＢ", "", "𠀀 rare"]

    assert normalize_many(texts) == [normalize(t) for t in texts]


@pytest.mark.parametrize(
    "text",
    ["亲，您的快递已经发出了", "Hi, your kettle ships today!", "ﬁne ㍻ x", "𠀀a b", "a\u200bb c", ""],
)
def test_each_folded_character_knows_its_original_character(text: str) -> None:
    positions = offsets(text)

    assert len(positions) == len(normalize(text))
    assert positions == sorted(positions)
    assert all(0 <= p < len(text) for p in positions)


NOISE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\ufeff", " ", "·", "*", "　", "-"])
FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


@given(
    word=st.sampled_from(["kill you", "傻逼", "弄死你", "删差评", "hell money", "全家死光"]),
    noise=st.lists(NOISE, min_size=0, max_size=6),
    widen=st.lists(st.booleans(), min_size=12, max_size=12),
    before=st.text(alphabet="好的亲您 ,.", max_size=5),
    after=st.text(alphabet="好的亲您 ,.", max_size=5),
)
def test_a_span_found_in_the_view_covers_exactly_the_noisy_original(
    word: str, noise: list[str], widen: list[bool], before: str, after: str
) -> None:
    # given a word written with zero-width and spacing noise between its characters and some
    # letters in full width, inside other text
    chars = [FULL_WIDTH.get(c, c) if wide else c for c, wide in zip(word, widen, strict=False)]
    noisy = chars[0] + "".join((noise[i] if i < len(noise) else "") + c for i, c in enumerate(chars[1:]))
    text = f"{before} {noisy} {after}"
    # when the folded word is located in the folded text and mapped back
    view = normalize(text)
    start = view.index(normalize(word))
    span = original_span(offsets(text), start, start + len(normalize(word)))
    # then the span runs from the word's first original character to its last, noise inside included
    first = text.index(noisy)
    assert span == (first, first + len(noisy))
