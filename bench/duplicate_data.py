"""Synthetic Chinese project texts for duplicate detection: a corpus of any size, and the labelled pairs of
tests/data/duplicates.json (`python bench/duplicate_data.py` rewrites it).

True duplicates: a reworded title over a lightly edited abstract, the same project under a swapped PI, the same
abstract re-submitted under a new title. True non-duplicates: projects of the same field sharing the method or the
object (hard negatives), with the field's boilerplate.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.duplicates import PriorWork  # noqa: E402

FIELDS = {
    "地质": ["深部金矿", "铜多金属矿", "页岩气储层", "煤层气富集区", "岩溶地下水", "黄土滑坡", "稀土矿床", "采空区塌陷",
           "地热资源", "铝土矿", "矿井突水", "构造应力场"],
    "医学": ["肺结节", "肝细胞癌", "冠心病", "糖尿病肾病", "缺血性脑卒中", "乳腺癌", "慢性阻塞性肺病", "骨质疏松症",
           "脓毒症", "胃癌前病变", "类风湿关节炎", "儿童哮喘"],
    "农业": ["谷子", "马铃薯晚疫病", "苹果腐烂病", "设施蔬菜连作障碍", "奶牛乳房炎", "盐碱地改良", "红枣裂果",
           "小麦条锈病", "蛋鸡沙门氏菌", "核桃品质", "旱作玉米", "中药材连作"],
    "环境": ["焦化废水", "汾河湿地", "燃煤烟气", "市政污泥", "土壤重金属", "矿区生态修复", "黑臭水体", "挥发性有机物",
           "黄河泥沙", "农村生活污水", "工业固废", "大气细颗粒物"],
    "材料": ["镁合金", "碳纤维复合材料", "钙钛矿电池", "石墨烯薄膜", "镍基高温合金", "陶瓷基复合材料", "锂硫电池",
           "质子交换膜", "超高强钢", "生物医用钛合金", "稀土永磁", "煤基碳材料"],
}
METHODS = ["基于深度学习的", "多源数据融合的", "高通量测序的", "同位素示踪的", "数值模拟的", "原位表征的",
           "大数据驱动的", "机器学习辅助的", "多组学联合的", "遥感监测的"]
GOALS = ["识别与预测研究", "形成机理研究", "关键技术研发", "评价方法研究", "防控技术集成与示范", "精准诊断研究",
         "成因机制与评价", "制备工艺优化", "调控机制研究", "风险评估与预警"]
QUALIFIERS = ["", "", "", "复杂条件下", "晋北地区", "晋南地区", "高寒干旱区", "典型区域", "规模化", "全生命周期",
              "低成本", "智能化", "多尺度", "绿色", "县域", "黄河流域", "太行山区", "吕梁山区", "城市群", "新型"]
SYNONYMS = {"研究": "研究与应用", "关键技术研发": "关键技术攻关", "评价方法": "评估方法", "防控": "防治",
            "基于": "依托", "识别与预测": "智能识别与预测", "机理": "机制", "优化": "改进", "示范": "应用示范"}
OPENINGS = ["针对{o}领域存在的突出问题，", "围绕我省{o}的重大需求，", "为解决{o}长期面临的技术瓶颈，"]
BODY = [
    "本项目拟采用{m}技术路线，系统开展{o}{g}。",
    "以{o}为研究对象，采集{n}组样本，构建{o}特征数据库。",
    "重点突破{o}{k}等关键环节，建立适用于{f}领域的{g2}模型。",
    "通过{m}方法揭示{o}的{a}规律，提出{o}{b}的新思路。",
    "项目将在{p}开展示范应用，形成可复制推广的{o}{c}方案。",
]
SLOTS = {
    "k": ["精准识别", "动态监测", "定量评价", "快速检测", "过程控制", "智能预警"],
    "a": ["时空演化", "分子调控", "多尺度耦合", "演变", "迁移转化", "响应"],
    "b": ["综合防控", "高效利用", "绿色治理", "精准干预", "协同优化", "系统评价"],
    "c": ["技术", "工程", "管理", "标准化", "产业化", "服务"],
    "g2": ["预测", "评价", "诊断", "决策", "调控", "优化"],
    "p": ["太原市", "大同市", "长治市", "晋中市", "运城市", "临汾市", "吕梁市", "忻州市"],
}
CLOSING = "预期发表高水平论文{x}篇，申请发明专利{y}项，培养研究生{z}名。"


def project(rng: random.Random, ref: str, field: str | None = None, obj: str | None = None,
            method: str | None = None, goal: str | None = None) -> PriorWork:
    field = field or rng.choice(list(FIELDS))
    obj, method, goal = obj or rng.choice(FIELDS[field]), method or rng.choice(METHODS), goal or rng.choice(GOALS)
    values = {"o": obj, "m": method.rstrip("的"), "g": goal, "f": field, "n": str(rng.randint(50, 900)),
              **{k: rng.choice(v) for k, v in SLOTS.items()}}
    body = [s.format(**values) for s in rng.sample(BODY, 4)]
    closing = CLOSING.format(x=rng.randint(3, 12), y=rng.randint(1, 6), z=rng.randint(2, 10))
    abstract = rng.choice(OPENINGS).format(o=obj) + "".join(body) + closing
    title = method + rng.choice(QUALIFIERS) + obj + goal
    return PriorWork(ref, f"call-{rng.randint(2015, 2025)}", rng.randint(2015, 2025), f"pi-{rng.randint(0, 10**6)}",
                     f"unit-{rng.randint(0, 2000)}", title, abstract, rng.choice(range(100_000, 800_001, 50_000)))


def reword(rng: random.Random, text: str) -> str:
    for a, b in rng.sample(list(SYNONYMS.items()), 4):
        text = text.replace(a, b, 1)
    return text


def duplicate(rng: random.Random, w: PriorWork, kind: str, ref: str) -> PriorWork:
    """A true duplicate of `w`, of one of three kinds."""
    if kind == "reworded":  # new wording of the title, abstract lightly edited, same team
        sentences = w.abstract.split("。")
        k = rng.randrange(1, len(sentences) - 2)
        sentences[k] = reword(rng, sentences[k])
        return replace(w, ref=ref, title=reword(rng, w.title), abstract="。".join(sentences), call_id="call-next")
    if kind == "swapped_pi":  # the same project filed by another PI of another unit
        return replace(w, ref=ref, pi_id=f"pi-x{rng.randint(0, 10**6)}", unit_id=f"unit-x{rng.randint(0, 99)}",
                       title=reword(rng, w.title) if rng.random() < 0.5 else w.title)
    # the same abstract re-submitted under a new title, by the same PI or (half the time) by someone else
    obj = next(o for os in FIELDS.values() for o in os if o in w.title)
    other = rng.random() < 0.5
    return replace(w, ref=ref, title=f"{obj}{rng.choice(GOALS)}", call_id="call-next", budget_cny=None,
                   pi_id=f"pi-y{rng.randint(0, 10**6)}" if other else w.pi_id,
                   unit_id=f"unit-y{rng.randint(0, 99)}" if other else w.unit_id)


def different(rng: random.Random, w: PriorWork, ref: str) -> PriorWork:
    """A true non-duplicate from the same field: the same object or the same method, another project."""
    field = next(f for f, os in FIELDS.items() if any(o in w.title for o in os))
    obj = next(o for o in FIELDS[field] if o in w.title)
    method = next(m for m in METHODS if w.title.startswith(m))
    if rng.random() < 0.5:  # same object, another method and goal
        return project(rng, ref, field, obj, rng.choice([m for m in METHODS if m != method]))
    return project(rng, ref, field, rng.choice([o for o in FIELDS[field] if o != obj]), method)


def labelled(seed: int = 20, per_kind: int = 60, negatives: int = 240) -> list[dict[str, object]]:
    rng = random.Random(seed)
    pairs: list[dict[str, object]] = []
    for kind in ("reworded", "swapped_pi", "same_abstract"):
        for i in range(per_kind):
            a = project(rng, f"{kind}-{i}-a")
            pairs.append({"kind": kind, "duplicate": True, "a": asdict(a),
                          "b": asdict(duplicate(rng, a, kind, f"{kind}-{i}-b"))})
    for i in range(negatives):
        a = project(rng, f"other-{i}-a")
        pairs.append({"kind": "same_field", "duplicate": False, "a": asdict(a), "b": asdict(different(rng, a, f"other-{i}-b"))})
    return pairs


def corpus(n: int, seed: int = 7) -> list[PriorWork]:
    rng = random.Random(seed)
    return [project(rng, f"c{i}") for i in range(n)]


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "tests" / "data" / "duplicates.json"
    out.write_text(json.dumps(labelled(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
