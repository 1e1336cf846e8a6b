"""Provinces by ISO 3166-2 code: their short names (what notices and issuers write) and a resident-ID area code."""

from __future__ import annotations

# code: (short name, the 6-digit area code sampled PIs' resident IDs start with: a district of the capital)
PROVINCE_AREAS: dict[str, tuple[str, str]] = {
    "CN-BJ": ("北京", "110101"), "CN-TJ": ("天津", "120101"), "CN-HE": ("河北", "130102"),
    "CN-SX": ("山西", "140105"), "CN-NM": ("内蒙古", "150102"), "CN-LN": ("辽宁", "210102"),
    "CN-JL": ("吉林", "220102"), "CN-HL": ("黑龙江", "230102"), "CN-SH": ("上海", "310101"),
    "CN-JS": ("江苏", "320102"), "CN-ZJ": ("浙江", "330102"), "CN-AH": ("安徽", "340102"),
    "CN-FJ": ("福建", "350102"), "CN-JX": ("江西", "360102"), "CN-SD": ("山东", "370102"),
    "CN-HA": ("河南", "410102"), "CN-HB": ("湖北", "420102"), "CN-HN": ("湖南", "430102"),
    "CN-GD": ("广东", "440103"), "CN-GX": ("广西", "450103"), "CN-HI": ("海南", "460105"),
    "CN-CQ": ("重庆", "500103"), "CN-SC": ("四川", "510104"), "CN-GZ": ("贵州", "520102"),
    "CN-YN": ("云南", "530102"), "CN-XZ": ("西藏", "540102"), "CN-SN": ("陕西", "610102"),
    "CN-GS": ("甘肃", "620102"), "CN-QH": ("青海", "630102"), "CN-NX": ("宁夏", "640104"),
    "CN-XJ": ("新疆", "650102"),
}


def province_area(code: str) -> tuple[str, str]:
    """The short name and area code of a province; a code not listed (CN, national) gets a neutral name."""
    return PROVINCE_AREAS.get(code, ("示范", "110101"))


def province_of(text: str) -> str | None:
    """The province an issuer's or a title's text names first ("福建省科学技术厅" -> CN-FJ), if any."""
    hits = [(text.find(name), code) for code, (name, _) in PROVINCE_AREAS.items() if name in text]
    return min(hits)[1] if hits else None
