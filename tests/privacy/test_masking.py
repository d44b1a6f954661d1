"""What a seller reads of a buyer's text: phone numbers, ID numbers and addresses masked, the rest kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewshield.privacy.masking import MASK, mask_personal_data
from reviewshield.screening.normalize import normalize

MASKED = [
    ("住在上海市长宁区虹桥路88号1201室，快来", "1201室"),
    ("我家在阳光小区3栋2单元501室", "501室"),
    ("寄到北京市朝阳区建国路 88 号", "建国路"),
    ("Room 1201, 88 Hongqiao Road, Shanghai", "Hongqiao Road"),
    ("I live at 12 Park Lane Apt 4", "Park Lane"),
    ("电话 138 0013 8000 打我", "0013"),
    ("+86-139-1234-5678", "5678"),
    ("身份证 11010119900307123X", "11010119900307123X"),
]
KEPT = [
    "我们明天发货，路上需要三天",
    "订单号123号已发货",
    "退款30元已到账，请查收",
    "see you at 5 pm",
    "Your parcel is on the road, 3 days to go.",
    "第3条评价是我写的",
]


@pytest.mark.parametrize(("text", "secret"), MASKED)
def test_personal_data_shapes_are_masked(text, secret):
    masked = mask_personal_data(text)
    assert secret not in masked and MASK in masked


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_shop_talk_is_left_alone(text):
    assert mask_personal_data(text) == text


def test_the_buyers_known_strings_are_masked_whatever_their_shape():
    known = ["王小明", "xiaoming@example.com"]
    masked = mask_personal_data("我是王小明，邮箱 xiaoming@example.com", known)
    assert "王小明" not in masked and "xiaoming@example.com" not in masked


CITIES = st.sampled_from(["上海市", "北京市", "广东省广州市", "浙江省杭州市西湖区", ""])
ROADS = st.sampled_from(["虹桥路", "建国大道", "文一西路", "南京东路", "帽儿胡同"])
ROOMS = st.sampled_from(["", "1201室", "3栋2单元501室", "5号楼"])


@given(CITIES, ROADS, st.integers(1, 9999), ROOMS, st.sampled_from(["我住在", "寄到", "地址：", ""]))
def test_any_street_address_is_masked(city, road, number, room, lead):
    address = f"{city}{road}{number}号{room}"
    masked = mask_personal_data(f"{lead}{address}，谢谢")
    assert f"{road}{number}号" not in masked and "谢谢" in masked


# The buyer as the platform knows them, and the ways they or anyone else might write it.
BUYER = ["王芳", "13812345678", "上海市长宁区虹桥路88号3号楼1202室", "Emily Chen", "fang.wang@example.com"]
RENDERED = [
    # the phone: full-width, dots, zero-width spaces, Chinese numerals (幺 for one, 两 for two)
    ("电话１３８１２３４５６７８", "１３８１２３４５６７８"),
    ("电话 138.1234.5678 打我", "138.1234.5678"),
    ("电话 138\u200b1234\u200b5678", "1234\u200b5678"),
    ("电话一三八一二三四五六七八", "一三八一二三四五六七八"),
    ("电话幺三八 幺两三四 五六七八", "五六七八"),
    ("电话 138·1234·5678", "1234·5678"),
    # the name: a space inside, pinyin in any case, order and spacing, the given name alone
    ("我是王 芳", "王 芳"),
    ("I am Wang Fang.", "Wang"),
    ("signed wangfang", "wangfang"),
    ("WANG Fang here", "Fang"),
    ("Fang Wang here", "Fang"),
    ("叫我小芳就行", "小芳"),
    ("emily chen wrote this", "emily"),
    ("Chen Emily wrote this", "Emily"),
    ("CHEN, EMILY", "EMILY"),
    # the address: the unit part alone, each component as its own needle
    ("放在3号楼 1202室门口", "1202"),
    ("送到1202室", "1202室"),
    ("送到３号楼", "３号楼"),
    ("住3-1202", "3-1202"),
    ("虹桥路88号那边", "虹桥路88号"),
]


@pytest.mark.parametrize(("text", "secret"), RENDERED)
def test_the_buyers_data_is_masked_however_it_is_written(text, secret):
    masked = mask_personal_data(text, BUYER)
    assert secret not in masked and MASK in masked


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("我叫李秀英，卖家一直打电话", "李秀英"),
        ("姓名：赵敏", "赵敏"),
        ("卖家骚扰我。\n—— 刘洋\n", "刘洋"),
        ("My name is John Smith and he called me.", "John Smith"),
        ("Please help.\nRegards,\nMary Jones", "Mary Jones"),
    ],
)
def test_a_name_the_buyer_gives_themself_is_masked_though_it_is_not_on_file(text, secret):
    masked = mask_personal_data(text, BUYER)
    assert secret not in masked and MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "the kitchen was changed",  # "chen" inside a word
        "芳香的花",  # a one-character given name alone is every other word
        "王老板说明天发货",  # the surname alone
        "Wang said it ships tomorrow",  # the surname's pinyin alone
        "fangs and wangs",  # pinyin inside longer words
        "退款30元，12:02 到账",
        "收货人信息被泄露了",
        "我叫了快递",
    ],
)
def test_words_that_only_resemble_the_buyers_data_are_left_alone(text):
    assert mask_personal_data(text, BUYER) == text


def test_a_masked_piece_does_not_fold_back_into_the_name():
    # "王芳" masked out of "王王芳芳" leaves 王 and 芳, which fold back into 王芳 once *** is gone
    masked = mask_personal_data("王王芳芳", BUYER)
    assert "王芳" not in normalize(masked)


def test_a_name_written_in_another_script_than_on_file_is_masked_both_ways():
    assert "Xiaoming" not in mask_personal_data("Wang Xiaoming called", ["王小明"])
    assert "小明" not in mask_personal_data("小明你好", ["王小明"])
    assert "Ouyang" not in mask_personal_data("Na Ouyang wrote", ["欧阳娜"])
