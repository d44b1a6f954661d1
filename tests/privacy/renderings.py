"""A text in which buyer bob (王小明, 13800138000, 世纪大道100号3号楼1202室) shows up every way the
seller side used to let through, and the check that none of it reached a seller."""

from __future__ import annotations

from reviewshield.screening.normalize import normalize

ADDRESS = "上海市浦东新区世纪大道100号3号楼1202室"
# A name bob signs with that is not on his profile.
SIGNED = "李秀英"
RENDERINGS = [
    "１３８００１３８０００",  # full-width digits
    "138.0013.8000",  # dots
    "138\u200b0013\u200b8000",  # zero-width spaces
    "一三八零零一三八零零零",  # Chinese numerals
    "幺三八 〇〇幺三 八〇〇〇",  # read out: 幺 for one
    "王 小明",  # a space inside the name
    "Wang Xiaoming",  # pinyin
    "wangxiaoming",
    "WANG Xiaoming",
    "Xiaoming Wang",  # Western order
    "小明",  # the given name alone
    "3号楼 1202室",  # the unit part of the address alone
    "世纪大道100号",
]
NARRATIVE = (
    "卖家天天打电话骚扰我。" + "；".join(f"他写了 {r} 给别人" for r in RENDERINGS) + f"。\n—— {SIGNED}"
)
# What must not be found, folded as the screening folds (so no rendering of it can hide either).
SECRETS = ["13800138000", "王小明", "小明", "wangxiaoming", "xiaomingwang", "3号楼1202室", "1202室", SIGNED]


def assert_nothing_of_bob(shown: str) -> None:
    """Neither a rendering nor any folded form of bob's data is in `shown`."""
    for rendering in RENDERINGS:
        assert rendering not in shown, rendering
    folded = normalize(shown)
    for secret in SECRETS:
        assert normalize(secret) not in folded, secret
