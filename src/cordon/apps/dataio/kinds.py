"""What can be imported and exported: the kinds of register record and their columns (Chinese and English
headers, required or not, help text), shared by the import (``actions``) and the export (``selectors``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    help: Promise | str = ""

    def header(self, language: str | None = None) -> str:
        lang = language or translation.get_language() or "zh-hans"
        return self.zh if lang.lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Kind:
    key: str
    label: Promise | str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


_JUR = Column(
    "jurisdiction", "所属辖区编码", "jurisdiction code", help=gettext_lazy("Code of a node in your area.")
)
_SECTOR = Column("sector", "行业", "sector", help=gettext_lazy("Industry sector code or name."))

KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind(
            "jurisdictions",
            gettext_lazy("Jurisdictions"),
            (
                Column(
                    "code", "编码", "code", True, gettext_lazy("Unique code, e.g. the administrative code.")
                ),
                Column("name", "名称", "name", True),
                Column("name_en", "英文名称", "English name"),
                Column(
                    "level",
                    "层级",
                    "level",
                    True,
                    gettext_lazy("city, district, street, community or grid (or 1 to 5)."),
                ),
                Column(
                    "parent",
                    "上级编码",
                    "parent code",
                    help=gettext_lazy("Code of the parent node, in your area or earlier in this file."),
                ),
            ),
        ),
        Kind(
            "buildings",
            gettext_lazy("Buildings"),
            (
                Column("code", "楼栋编码", "building code", True),
                Column("address", "地址", "address", True),
                Column(
                    "jurisdiction",
                    "所属辖区编码",
                    "jurisdiction code",
                    True,
                    gettext_lazy("Code of the grid or community the building is in."),
                ),
                Column("latitude", "纬度", "latitude"),
                Column("longitude", "经度", "longitude"),
                Column(
                    "footprint",
                    "轮廓",
                    "footprint",
                    help=gettext_lazy("Polygon as JSON: [[longitude, latitude], ...], at least 3 points."),
                ),
            ),
        ),
        Kind(
            "households",
            gettext_lazy("Households"),
            (
                Column("code", "户编码", "household code", True),
                Column("building", "楼栋编码", "building code", True),
                Column("unit", "单元门牌", "unit", help=gettext_lazy("Unit and room, e.g. 2-301.")),
            ),
        ),
        Kind(
            "persons",
            gettext_lazy("Persons"),
            (
                Column("name", "姓名", "name", True),
                Column(
                    "national_id",
                    "身份证号",
                    "national ID",
                    help=gettext_lazy("18 characters, checked with the GB 11643 check character."),
                ),
                Column(
                    "sex",
                    "性别",
                    "sex",
                    help=gettext_lazy("M/F, 男/女; taken from the national ID if empty."),
                ),
                Column("birth_date", "出生日期", "birth date", help=gettext_lazy("YYYY-MM-DD.")),
                Column("phone", "手机号", "phone"),
                Column(
                    "jurisdiction",
                    "所属辖区编码",
                    "jurisdiction code",
                    help=gettext_lazy("Needed when no home building is given."),
                ),
                Column("building", "居住楼栋编码", "home building code"),
                Column("household", "户编码", "household code"),
                Column("workplace_venue", "工作场所码", "workplace place code"),
                Column("workplace_name", "工作单位", "workplace"),
                Column("occupation", "职业", "occupation"),
                _SECTOR,
                Column(
                    "tags",
                    "特殊人群",
                    "special groups",
                    help=gettext_lazy("Separated by ';', e.g. pregnant; dialysis (codes or names)."),
                ),
            ),
        ),
        Kind(
            "venues",
            gettext_lazy("Venues"),
            (
                Column("code", "场所码", "place code", True),
                Column("name", "名称", "name", True),
                Column(
                    "venue_type", "类型", "type", help=gettext_lazy("e.g. restaurant, market, economy_hotel.")
                ),
                Column(
                    "jurisdiction",
                    "所属辖区编码",
                    "jurisdiction code",
                    help=gettext_lazy("Needed when no building is given."),
                ),
                Column("building", "楼栋编码", "building code"),
                Column("capacity", "容纳人数", "capacity"),
                Column("sub_areas", "分区", "sub-areas", help=gettext_lazy("Separated by ';'.")),
                Column("responsible_unit", "责任单位", "responsible unit"),
                _SECTOR,
            ),
        ),
    )
}


def norm(text: str) -> str:
    """A header or a word as compared: without spaces, underscores, dashes, brackets and colons, lower-cased."""
    return re.sub(r"[\s_\-*（）()：:]+", "", text).lower()


def header_lookup(kind: Kind) -> dict[str, Column]:
    """Each column of ``kind`` by its key, Chinese header and English header (normalized)."""
    lookup: dict[str, Column] = {}
    for column in kind.columns:
        for name in (column.key, column.zh, column.en):
            lookup[norm(name)] = column
    return lookup


def headers(kind: str) -> list[str]:
    """The header row of ``kind`` in the active language."""
    return [c.header() for c in KINDS[kind].columns]
