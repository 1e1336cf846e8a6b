"""A seeded sample registry and application population: mostly eligible, with every kind of ineligible case."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from models.call import AttachmentDef, CallDefinition
from models.duplicates import PriorWork
from models.facts import Facts, Snapshot, add_years
from models.forms import ApplicationForm, Attachment, CentreFigures, Claims, PartnerUnit, TeamMember
from models.provinces import province_area
from models.rules import CONDITIONS
from models.rules.funds import Term, month_end
from records.registry import id_check_digit
from records.registry_tables import PersonRow, ProjectRow, UnitRow

PERSON_PROFILES = ("too_old", "phd_student", "civil_servant", "overdue", "poor_verdict", "three_ongoing", "low_title",
                   "blacklisted", "part_time", "elsewhere", "academician_old", "recent_cooperation_lead")
UNIT_PROFILES = ("blacklisted_unit", "young_unit", "branch_unit", "outside_unit", "no_cto", "platform_unit")
FORM_PROFILES = ("duplicate", "stale_document", "not_pdf", "oversized", "too_many_papers", "short_matching",
                 "too_many_partners", "team_outsiders", "bad_term", "small_centre", "flag_mismatch", "inexperienced")
PROFILES = ("eligible", *PERSON_PROFILES, *UNIT_PROFILES, *FORM_PROFILES)
INELIGIBLE_SHARE = 0.35

PROVINCES = {"CN-SX": ("山西", "140105"), "CN-GX": ("广西", "450103")}
PROGRAMMES = {
    "CN-SX": ("山西省基础研究计划", "山西省重点研发计划", "山西省科技重大专项"),
    "CN-GX": ("广西重点研发计划", "广西自然科学基金", "广西科技基地和人才专项"),
}
LABS = {"CN-SX": "山西省重点实验室", "CN-GX": "广西重点实验室"}
OUTSIDERS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (  # units outside the seed provinces
    ("bj-univ-1", "北京示范大学", "CN-BJ", "university", {"key_discipline": True}),
    ("bj-inst-1", "中国示范科学院研究所", "CN-BJ", "research_institute", {"admin_level": "central", "key_discipline": True}),
    ("sh-ent-1", "上海示范科技有限公司", "CN-SH", "enterprise", {"high_tech": True, "cto_id": "sh-cto-1"}),
    ("gd-univ-1", "广东示范大学", "CN-GD", "university", {"key_discipline": True}),
)
PLACES = ("太原盆地", "中条山", "吕梁山西麓", "晋北", "沁河源区", "汾河流域", "大同煤田", "阳泉矿区", "长治盆地", "晋城",
          "临汾", "运城盐湖", "忻州", "朔州", "五台山", "太行山", "黄河中游", "桂西", "河池", "百色", "柳州", "桂林", "南宁",
          "北部湾", "贺州", "梧州", "钦州", "来宾", "崇左", "玉林", "防城港")
OBJECTS = ("深部煤储层", "铜多金属矿床", "地热资源", "采空区裂隙带", "土壤重金属", "地下水污染", "矿区生态系统", "铝土矿共生矿物",
           "滑坡隐患", "碳汇能力", "尾矿库", "稀土元素", "岩溶塌陷", "工业固废", "挥发性有机物", "河流水生态", "煤层气",
           "砷污染农田", "镉污染底泥", "矿井水", "黄土边坡", "页岩气储层", "锰矿渣", "铅锌冶炼废渣", "大气细颗粒物", "湿地植被",
           "城市地下空间", "隐蔽致灾因素", "铁矿成矿流体", "金矿化蚀变带", "耕地质量")
METHODS = ("三维地震精细识别", "多源遥感监测", "原位修复技术", "机器学习预测", "地球化学示踪", "数值模拟", "微生物修复",
           "高精度定年", "综合评价模型", "智能预警系统", "同位素分析", "物探综合解释", "多场耦合建模", "应急处置技术",
           "资源化利用工艺", "时空演化规律", "风险评估方法", "光谱快速检测", "植物提取修复", "固化稳定化技术", "数字孪生平台",
           "无人机巡检", "深度学习反演", "实验室模拟", "野外长期观测", "大数据分析", "纳米材料吸附", "电动力学修复",
           "生命周期评价", "空天地一体化监测", "分子生物学方法")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建文斌宇浩凯晨瑞博鑫欣佳怡雪琳晶峰海波宁"
STAFF_PER_UNIT = 9


@dataclass
class RegistryData:
    """Rows for the registry tables, and the profile each sampled PI was drawn with."""

    units: list[UnitRow] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    projects: list[ProjectRow] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """JSON-ready rows, the format `grantflow registry import` reads."""
        return {"units": [u.model_dump(mode="json") for u in self.units],
                "people": [p.model_dump(mode="json") for p in self.people],
                "projects": [p.model_dump(mode="json") for p in self.projects]}

    def write(self, session: Session) -> None:
        for row in [*self.units, *self.people, *self.projects]:
            session.merge(row)
        session.commit()

    def prior_work(self) -> tuple[PriorWork, ...]:
        return tuple(PriorWork(p.project_id, p.call_id, p.started_on.year, p.person_id, p.unit_id, p.title, p.abstract)
                     for p in self.projects if p.role == "lead" and p.title)

    def snapshot(self, form: ApplicationForm, prior_work: tuple[PriorWork, ...] | None = None) -> Snapshot:
        """The snapshot records.registry.snapshot would read, from these rows only (no grantflow applications)."""
        members = {m.person_id for m in form.team}
        unit_ids = {*form.applicant_units, *(m.unit_id for m in form.team)}
        people = {p.id: p.facts() for p in self.people if p.id == form.pi_id or p.id in members}
        return Snapshot(
            pi=people.get(form.pi_id),
            units={u.id: u.facts() for u in self.units if u.id in unit_ids},
            people={k: v for k, v in people.items() if k != form.pi_id},
            projects=tuple(p.facts() for p in self.projects if p.person_id == form.pi_id),
            unit_projects=tuple(p.facts() for p in self.projects if p.unit_id == form.unit_id and p.role == "lead"),
            prior_work=self.prior_work() if prior_work is None else prior_work,
        )


@dataclass
class Population:
    """Sampled forms and the registry behind them; `facts` is what evaluate_formal would build from the database."""

    registry: RegistryData
    forms: list[ApplicationForm]
    prior: tuple[PriorWork, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.prior = self.registry.prior_work()

    def facts(self, call: CallDefinition, form: ApplicationForm, submitted_at: datetime) -> Facts:
        return Facts(form, self.registry.snapshot(form, self.prior), submitted_at, call.zone)


class Sampler:
    """Draws units, people, projects and forms from one seeded random stream, relative to `as_of`."""

    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.data = RegistryData()
        self.staff: dict[str, list[str]] = {}
        self.titles = 0
        self.sequence = 0
        self.ids: set[str] = set()
        self.ineligible = 0
        self.order = [list(range(31)) for _ in range(3)]
        for o in self.order:
            self.rng.shuffle(o)

    # ---- the registry ----------------------------------------------------------------------------------

    def days_ago(self, low: int, high: int) -> date:
        return self.as_of - timedelta(days=self.rng.randint(low, high))

    def title(self) -> tuple[str, str]:
        """The next title and abstract: any two of the first 961 share at most one of their three words."""
        a, b = self.titles % 31, (self.titles // 31) % 31
        self.titles += 1
        place, thing, method = PLACES[self.order[0][a]], OBJECTS[self.order[1][b]], METHODS[self.order[2][(a + b) % 31]]
        return f"{place}{thing}{method}研究", f"{place}{thing}：以{method}为主要手段。"

    def unit(self, uid: str, name: str, province: str, kind: str, **extra: Any) -> UnitRow:
        registered = extra.pop("registered_on", None) or self.days_ago(6 * 365, 40 * 365)
        row = UnitRow(id=uid, name=name, registered_on=registered, province=province, kind=kind, **extra)
        self.data.units.append(row)
        self.staff[uid] = [self.person("staff", uid, province).id for _ in range(STAFF_PER_UNIT)]
        return row

    def units(self, call_province: str | None = None) -> None:
        """The sample units of the seed provinces and of the call's province (any ISO 3166-2 code), and a few
        outside them; an id a province's set already made is not made twice (bj-univ-1 for a Beijing call)."""
        provinces = dict(PROVINCES)
        if call_province is not None and call_province not in provinces:
            provinces[call_province] = province_area(call_province)
        for province, (name, _) in provinces.items():
            p = province[-2:].lower()
            for i in (1, 2, 3):
                self.unit(f"{p}-univ-{i}", f"{name}示范大学{i}", province, "university", key_discipline=True)
            self.unit(f"{p}-inst-1", f"{name}省地质科学研究院", province, "research_institute", key_discipline=True)
            self.unit(f"{p}-inst-2", f"{name}市环境科学研究所", province, "research_institute", admin_level="city",
                      key_discipline=True)
            for i in (1, 2, 3, 4):
                level = ("city", "county")[i % 2]
                self.unit(f"{p}-ent-{i}", f"{name}示范科技有限公司{i}", province, "enterprise", admin_level=level,
                          high_tech=True, rd_institution=i % 2 == 0, cto_id=f"{p}-cto-{i}")
            self.unit(f"{p}-organ", f"{name}省自然资源厅", province, "state_organ")
            self.unit(f"{p}-blacklisted", f"{name}失信科技有限公司", province, "enterprise", high_tech=True,
                      cto_id=f"{p}-cto-9", blacklisted_until=self.as_of + timedelta(days=200))
            self.unit(f"{p}-young", f"{name}新设科技有限公司", province, "enterprise", cto_id=f"{p}-cto-8",
                      registered_on=self.days_ago(100, 300))
            self.unit(f"{p}-branch", f"{name}示范大学分部", province, "university", legal_entity=False)
            self.unit(f"{p}-nocto", f"{name}未备案科技有限公司", province, "enterprise", high_tech=True)
            self.unit(f"{p}-lab", f"{name}重点实验室依托大学", province, "university", key_discipline=True)
            self.data.projects.append(ProjectRow(
                project_id=f"{p}-lab-platform", person_id=self.staff[f"{p}-lab"][0], unit_id=f"{p}-lab",
                programme=LABS.get(province, f"{name}省重点实验室"), province=province,
                status="ongoing", started_on=self.days_ago(900, 1500), ends_on=self.as_of + timedelta(days=700)))
        made = {u.id for u in self.data.units}
        for uid, name, province, kind, extra in OUTSIDERS:
            if uid not in made:
                self.unit(uid, name, province, kind, **extra)

    def person(self, profile: str, unit_id: str, province: str) -> PersonRow:
        rng = self.rng
        age = {"too_old": (61, 64), "academician_old": (66, 70)}.get(profile, (32, 54))
        birth = add_years(self.as_of, -rng.randint(*age)) - timedelta(days=rng.randint(1, 360))
        area = province_area(province)[1]
        first17 = ""
        while not first17 or first17 in self.ids:
            self.sequence += 1
            first17 = f"{area}{birth:%Y%m%d}{self.sequence % 1000:03d}"
        self.ids.add(first17)
        title, degree = rng.choice((("associate_senior", "phd"), ("full_senior", "phd"), ("associate_senior", "master"),
                                    ("full_senior", "master")))
        if profile == "low_title":
            title, degree = "intermediate", "bachelor"
        row = PersonRow(
            id=first17 + id_check_digit(first17), name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
            birth_date=birth, title="none" if profile == "phd_student" else title,
            degree="master" if profile == "phd_student" else degree, unit_id=unit_id,
            full_time=profile != "part_time",
            student_status="full_time_phd" if profile == "phd_student" else "none",
            civil_servant=profile == "civil_servant", academician=profile == "academician_old",
            retirement_date=add_years(birth, 60),
            blacklisted_until=self.as_of + timedelta(days=365) if profile == "blacklisted" else None,
        )
        self.data.people.append(row)
        return row

    def project(self, person: PersonRow, programme: str, province: str, status: str, **extra: Any) -> ProjectRow:
        started = extra.pop("started_on", self.days_ago(400, 700))
        title, abstract = self.title() if extra.get("role", "lead") == "lead" else ("", "")
        row = ProjectRow(project_id=f"prj-{len(self.data.projects) + 1:05d}", person_id=person.id,
                         unit_id=person.unit_id or "", programme=programme, province=province, status=status,
                         started_on=started, ends_on=extra.pop("ends_on", started + timedelta(days=730)), title=title,
                         abstract=abstract, **extra)
        self.data.projects.append(row)
        return row

    def history(self, person: PersonRow, profile: str, province: str) -> None:
        """The projects a PI of this profile has led or joined."""
        rng, mine = self.rng, PROGRAMMES.get(province, PROGRAMMES["CN-SX"])
        if rng.random() < 0.4 or profile == "three_ongoing":
            self.project(person, rng.choice(mine), province, "ongoing")
        if profile == "three_ongoing":
            self.project(person, rng.choice(mine), province, "ongoing")
        if rng.random() < 0.5:
            closed = self.days_ago(1500, 2500)
            verdict = rng.choice(("excellent", "good", "pass"))
            self.project(person, rng.choice(mine), province, "closed", verdict=verdict,
                         started_on=closed - timedelta(days=730), ends_on=closed, closed_on=closed)
        if rng.random() < 0.3:
            self.project(person, rng.choice(mine), province, "ongoing", role="member", rank=rng.randint(2, 6))
        if profile == "overdue":
            self.project(person, rng.choice(mine), province, "overdue", started_on=self.days_ago(1000, 1200),
                         ends_on=self.days_ago(200, 300))
        if profile == "poor_verdict":
            closed = self.days_ago(200, 500)
            self.project(person, "山西省基础研究计划（产业发展类）联合资助（煤基）", "CN-SX", "closed", verdict="poor",
                         started_on=closed - timedelta(days=730), ends_on=closed, closed_on=closed)
        if profile == "recent_cooperation_lead":
            closed = self.days_ago(500, 900)
            self.project(person, "山西省科技合作交流专项", "CN-SX", "closed", verdict="good",
                         started_on=closed - timedelta(days=1000), ends_on=closed, closed_on=closed)

    def registry(self, people: int) -> RegistryData:
        """`people` sampled PIs in the two seed provinces, with their projects; unit staff besides."""
        self.units()
        for i in range(people):
            province = ("CN-SX", "CN-GX")[i % 2]
            profile = self.profile(PERSON_PROFILES)
            self.pi(profile, province)
        return self.data

    def profile(self, choices: tuple[str, ...]) -> str:
        """Eligible, or else the next ineligible profile in turn (so every profile shows up in a large enough draw)."""
        if self.rng.random() >= INELIGIBLE_SHARE:
            return "eligible"
        self.ineligible += 1
        return choices[(self.ineligible - 1) % len(choices)]

    def home(self, profile: str, province: str) -> str:
        """The unit an applicant of this profile applies through."""
        p = province[-2:].lower()
        special = {"civil_servant": f"{p}-organ", "blacklisted_unit": f"{p}-blacklisted", "young_unit": f"{p}-young",
                   "branch_unit": f"{p}-branch", "outside_unit": "sh-ent-1", "no_cto": f"{p}-nocto",
                   "platform_unit": f"{p}-lab"}
        if profile in special:
            return special[profile]
        return self.rng.choice([f"{p}-univ-1", f"{p}-univ-2", f"{p}-univ-3", f"{p}-inst-1", f"{p}-inst-2",
                                f"{p}-ent-1", f"{p}-ent-2", f"{p}-ent-3", f"{p}-ent-4"])

    def pi(self, profile: str, province: str) -> tuple[PersonRow, str]:
        """A PI of this profile and the unit the application goes through."""
        unit = self.home(profile, province)
        registered = unit if profile != "elsewhere" else self.home("eligible", province)
        while profile == "elsewhere" and registered == unit:
            registered = self.home("eligible", province)
        person = self.person(profile if profile in PERSON_PROFILES else "eligible", registered, province)
        self.data.profiles[person.id] = profile
        self.history(person, profile, province)
        return person, unit

    # ---- forms -------------------------------------------------------------------------------------------

    def partners(self, call: CallDefinition, form_unit: str, category: str, profile: str) -> list[PartnerUnit]:
        rng, province = self.rng, call.province or "CN-SX"
        p = province[-2:].lower()
        lead = next(u for u in self.data.units if u.id == form_unit)
        pool = [f"{p}-univ-1", f"{p}-univ-2", f"{p}-inst-1", f"{p}-ent-1", f"{p}-ent-2", f"{p}-ent-3"]
        chosen = rng.sample([u for u in pool if u != form_unit], rng.randint(0, 2))
        if any(r.kind == "centre_first_host" for r in call.rules):  # 002: co-built with the other kind of unit
            other = "univ" if lead.kind == "enterprise" else "ent"
            chosen = [next(u for u in (f"{p}-{other}-2", f"{p}-{other}-1") if u != form_unit)]
        if any(r.kind == "partner_outside_province" and category in r.categories for r in call.rules):
            chosen = ["bj-univ-1", *chosen[:1]]
        if profile == "too_many_partners":
            chosen = [u for u in pool if u != form_unit][:4]
        requested = rng.randint(50, 150) * 1000
        return [PartnerUnit(unit_id=u, staff=rng.randint(5, 8), requested_cny=requested, matching_cny=requested * 4)
                for u in chosen]

    def team(self, pi: PersonRow, unit: str, partners: list[PartnerUnit], profile: str) -> list[TeamMember]:
        rng = self.rng
        own = [s for s in self.staff[unit] if s != pi.id]
        members = [TeamMember(person_id=s, unit_id=unit) for s in rng.sample(own, rng.randint(2, 4))]
        for x in partners:
            members += [TeamMember(person_id=s, unit_id=x.unit_id) for s in self.staff[x.unit_id][:x.staff]]
        if profile == "team_outsiders":  # enough of them to take the team below 90% from the applicant units
            outsiders = self.staff["gd-univ-1"][:(len(members) + 1) // 9 + 1]
            members += [TeamMember(person_id=x, unit_id="gd-univ-1") for x in outsiders]
        return members

    def term(self, call: CallDefinition, category: str, profile: str) -> tuple[date, date]:
        """A term the call's term rule accepts (starting next month unless fixed), or half a year too long."""
        rule = next((Term.model_validate(r.params) for r in call.rules if r.kind == "term"), Term())
        start = rule.starts_on or (self.as_of.replace(day=1) + timedelta(days=45)).replace(day=1)
        low = rule.min_months or rule.max_months or call.category(category).term_months or 24
        return start, month_end(start, (rule.max_months or low) + 6 if profile == "bad_term" else low)

    def attachment(self, a: AttachmentDef, app_id: str, k: int, ends_on: date, profile: str) -> Attachment:
        rng = self.rng
        media = "application/pdf"
        if profile == "not_pdf" and a.media_types:
            media = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        size = (a.max_bytes + 1) if profile == "oversized" and a.max_bytes else rng.randint(200, 8000) * 1024
        dated = self.days_ago(10, 120)
        if a.date_after is not None:
            dated = a.date_after if profile == "stale_document" else a.date_after + timedelta(days=rng.randint(1, 120))
        return Attachment(kind=a.kind, filename=f"{a.kind}-{k + 1}.{'pdf' if media.endswith('pdf') else 'docx'}",
                          media_type=media, size=size,
                          sha256=hashlib.sha256(f"{app_id}/{a.kind}/{k}".encode()).hexdigest(), document_date=dated,
                          valid_until=ends_on + timedelta(days=365) if a.covers_term else None)

    def attachments(self, call: CallDefinition, form: ApplicationForm, profile: str) -> list[Attachment]:
        assert form.ends_on is not None
        pi = next(p.facts() for p in reversed(self.data.people) if p.id == form.pi_id)
        units = {u.id: u.facts() for u in self.data.units if u.id == form.unit_id}
        facts = Facts(form, Snapshot(pi, units), datetime.combine(self.as_of, time(12), call.zone), call.zone)
        out: list[Attachment] = []
        for a in call.attachments:
            needed = a.required and (a.when is None or form.flags.get(a.when, False)) and (
                a.condition is None or CONDITIONS[a.condition](facts))
            count = 1 if needed else 0
            if a.max_count is not None:
                count = a.max_count + 1 if profile == "too_many_papers" else self.rng.randint(0, a.max_count)
            out += [self.attachment(a, form.application_id, k, form.ends_on, profile) for k in range(count)]
        return out

    def form(self, call: CallDefinition, i: int, profile: str) -> ApplicationForm:
        rng, province = self.rng, call.province or "CN-SX"
        pi, unit = self.pi(profile, province)
        category = call.categories[i % len(call.categories)].id
        partners = self.partners(call, unit, category, profile)
        lead = next(u for u in self.data.units if u.id == unit)
        enterprise_led = (lead.kind == "enterprise") != (profile == "flag_mismatch")
        requested = call.category(category).funding_cny or 1_000_000
        matching = requested // 2 if profile == "short_matching" else requested * 4
        if profile == "short_matching":
            partners = [x.model_copy(update={"matching_cny": x.requested_cny}) for x in partners]
        title, abstract = self.title()
        if profile == "duplicate":
            prior = rng.choice([p for p in self.data.projects if p.role == "lead" and p.title and p.person_id != pi.id])
            title, abstract = prior.title, prior.abstract
        starts, ends = self.term(call, category, profile)
        centre = None
        if any(r.kind.startswith("centre_") for r in call.rules):
            small = profile == "small_centre"
            centre = CentreFigures(fixed_staff=rng.randint(60, 120),
                                   floor_area_m2=1500 if small else rng.randint(2500, 6000),
                                   equipment_cny=rng.randint(25, 60) * 1_000_000,
                                   rd_spend_3y_cny=rng.randint(25, 80) * 1_000_000)
        form = ApplicationForm(
            application_id=f"{call.id}.{i:05d}", call_id=call.id, programme=call.programme, category=category,
            title=title, abstract=abstract, pi_id=pi.id, unit_id=unit, recommender_id=f"org-{i % 5}",
            cto_id=lead.cto_id if enterprise_led else None, partners=partners,
            team=self.team(pi, unit, partners, profile), requested_cny=requested, matching_cny=matching,
            flags={f.id: enterprise_led for f in call.flags if f.id == "enterprise_led"},
            starts_on=starts, ends_on=ends,
            related_experience_years=2 if profile == "inexperienced" else rng.randint(5, 25),
            claims=Claims(ethics_needed=rng.random() < 0.1, international=rng.random() < 0.1,
                          foreign_degree=rng.random() < 0.05, platform=rng.random() < 0.1,
                          city_matching=rng.random() < 0.1, cross_field=rng.random() < 0.05),
            centre=centre,
        )
        return form.model_copy(update={"attachments": self.attachments(call, form, profile)})


def sample_registry(seed: int, as_of: date, people: int = 200) -> RegistryData:
    """A registry of `people` sampled PIs (about a third ineligible, see PERSON_PROFILES) and unit staff."""
    return Sampler(seed, as_of).registry(people)


def sample_population(call: CallDefinition, n: int, seed: int, as_of: date) -> Population:
    """`n` applications to `call` (ids `<call>.<i:05d>`, as simulate numbers them) with the registry behind them;
    about a third carry one defect each, the PROFILES in turn, recorded by PI id in `registry.profiles`."""
    sampler = Sampler(seed, as_of)
    sampler.units(call.province)
    forms = [sampler.form(call, i, sampler.profile(PROFILES[1:])) for i in range(n)]
    return Population(sampler.data, forms)
