"""What a seller reads of a buyer's text: phone numbers, ID numbers and addresses masked, the rest kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewshield.privacy.masking import MASK, mask_personal_data

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
