"""Property: however a buyer's phone, name or address is written into a text, none of it survives
masking — not even in the folded view that undoes full-width forms, separators, case and numerals."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin

from reviewshield.privacy.masking import BuyerData, mask_personal_data
from reviewshield.screening.normalize import normalize

SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "欧阳", "司马"]
GIVEN = ["芳", "小明", "秀英", "伟", "丽娟", "建国", "娜", "志强", "静", "海燕", "子涵"]
ROADS = ["虹桥路", "世纪大道", "文一西路", "建国路", "南京东路"]
ESTATES = ["阳光小区", "星河苑", "锦绣花园"]
# Words around the data: no digits, numerals or Latin letters of their own (which could spell the
# data by chance), and none of the characters names are made of.
FILLER = st.text(
    alphabet=st.sampled_from(list("卖家打电话骚扰我们快递今天下午说要找上门，。！？ \n\t、：😡★")),
    max_size=12,
)
SEPARATORS = st.sampled_from(
    ["", " ", "  ", "-", ".", "·", "\u200b", "\u200c", "\u2060", "\ufeff", "\u3000", "．"]
)
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789"}
CHINESE = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
CHINESE_SPOKEN = {**CHINESE, "1": "幺", "2": "两", "0": "〇"}


@st.composite
def buyers(draw):
    surname, given_name = draw(st.sampled_from(SURNAMES)), draw(st.sampled_from(GIVEN))
    phone = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    )
    building, room = draw(st.integers(1, 30)), draw(st.integers(101, 3299))
    place = draw(st.sampled_from(ROADS)) + f"{draw(st.integers(1, 999))}号"
    if draw(st.booleans()):
        place = draw(st.sampled_from(ESTATES))
    address = f"上海市长宁区{place}{building}号楼{room}室"
    return surname, given_name, phone, address, (building, room)


@st.composite
def phone_renderings(draw, phone):
    digits = draw(st.sampled_from([{}, FULL_WIDTH, CHINESE, CHINESE_SPOKEN]))
    groups = [phone[:3], phone[3:7], phone[7:]]
    if draw(st.booleans()):
        groups = list(phone)  # one digit at a time
    sep = draw(SEPARATORS)
    prefix = draw(st.sampled_from(["", "+86 ", "+86-", "86"]))
    return prefix + sep.join("".join(digits.get(c, c) for c in g) for g in groups)


def _case(word, how):
    return {"lower": word.lower(), "upper": word.upper(), "title": word.title(), "as is": word}[how]


@st.composite
def name_renderings(draw, surname, given_name):
    kind = draw(st.sampled_from(["cjk", "cjk given", "pinyin", "pinyin reversed", "pinyin given"]))
    if kind == "cjk":
        return draw(SEPARATORS.filter(lambda s: s != ".")).join([surname, given_name])
    if kind == "cjk given" and len(given_name) >= 2:
        return given_name
    if kind == "cjk given":
        return "小" + given_name
    sur = "".join(lazy_pinyin(surname, style=Style.NORMAL))
    syllables = lazy_pinyin(given_name, style=Style.NORMAL)
    inner = draw(st.sampled_from(["", " ", "-"]))
    given_py = inner.join(_case(s, draw(st.sampled_from(["lower", "upper", "title"]))) for s in syllables)
    sur = _case(sur, draw(st.sampled_from(["lower", "upper", "title"])))
    sep = draw(st.sampled_from(["", " ", ", ", "  ", "\u200b"]))
    if kind == "pinyin":
        return sur + sep + given_py
    if kind == "pinyin reversed":
        return given_py + sep + sur
    return given_py if len("".join(syllables)) >= 3 else sur + sep + given_py


@st.composite
def address_renderings(draw, address, unit):
    building, room = unit
    digits = draw(st.sampled_from([{}, FULL_WIDTH]))
    wide = lambda s: "".join(digits.get(c, c) for c in s)  # noqa: E731
    sep = draw(st.sampled_from(["", " ", "\u200b", "，"]))
    return draw(
        st.sampled_from(
            [
                address,
                wide(f"{building}号楼{sep}{room}室"),
                wide(f"{room}室"),
                wide(f"{building}号楼"),
                wide(f"{building}-{room}"),
                address.replace("上海市长宁区", ""),
            ]
        )
    )


def _oracle(surname, given_name, phone, unit):
    """What must not be found in the folded masked text."""
    building, room = unit
    sur, given_py = "".join(lazy_pinyin(surname)), "".join(lazy_pinyin(given_name))
    needles = [
        phone,
        surname + given_name,
        sur + given_py,
        given_py + sur,
        f"{building}号楼{room}室",
        f"{room}室",
    ]
    if len(given_name) >= 2:
        needles.append(given_name)
    if len(given_py) >= 3:
        needles.append(given_py)
    return [normalize(n) for n in needles]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), buyer=buyers())
def test_no_rendering_of_the_buyers_data_survives_masking(data, buyer):
    surname, given_name, phone, address, unit = buyer
    known = BuyerData(names=(surname + given_name,), phones=(phone,), addresses=(address,))
    pieces = [
        data.draw(phone_renderings(phone)),
        data.draw(name_renderings(surname, given_name)),
        data.draw(address_renderings(address, unit)),
    ]
    order = data.draw(st.permutations(pieces))
    text = data.draw(FILLER)
    for piece in order:
        text += piece + data.draw(FILLER.map(lambda f: f or " "))
    masked = mask_personal_data(text, known)
    folded = normalize(masked)
    for needle in _oracle(surname, given_name, phone, unit):
        assert needle not in folded, (text, masked)
