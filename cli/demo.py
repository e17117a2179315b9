"""``chanjiao demo``: a realistic sample ledger.

Three bodies of different kinds, a few dozen member units across a dozen
provinces, and two years of admissions, role changes, exits and one re-joining,
one admission recorded late; and for the Suzhou consortium a council with its
charter, seats, meetings and resolution register, and a year of cost sharing: a
shared training base and an industry college with contributions of every kind,
costs and benefits, a mid-year amendment of shares and one corrected typing mistake.
Credit codes are made up but valid (their check
characters are computed), so the sample passes every rule a real secretary meets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bootstrap import Ledger
from cli.render import emit
from domain.errors import AlreadyRegistered
from domain.values import credit_code_check_character
from projections import annual, cost_sharing, governance, membership

PRINCIPAL = "demo"

# registering authority + entity category, by unit type (GB 32100-2015 positions 1–2)
_AUTHORITY = {
    "enterprise": "91",
    "university": "12",
    "vocational_school": "12",
    "industry_organization": "51",
    "research_institute": "12",
    "government": "11",
    "other": "52",
}


@dataclass(frozen=True)
class Unit:
    key: str
    name: str
    type: str
    division: str
    level: str | None = None

    @property
    def code(self) -> str:
        body = _AUTHORITY[self.type] + self.division + f"{_serial(self.key):09d}"
        return body + credit_code_check_character(body)


def _serial(key: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(key)) * 7919 % 10**9


UNITS = [
    # the new-energy-vehicle industry community and its cross-provincial members
    Unit("byd", "比亚迪汽车工业有限公司", "enterprise", "440307"),
    Unit("catl", "宁德时代新能源科技股份有限公司", "enterprise", "350902"),
    Unit("saic", "上海汽车集团股份有限公司", "enterprise", "310115"),
    Unit("changan", "重庆长安汽车股份有限公司", "enterprise", "500112"),
    Unit("tongji", "同济大学", "university", "310110"),
    Unit("jlu", "吉林大学", "university", "220104"),
    Unit("szpt", "深圳职业技术大学", "vocational_school", "440305", "undergraduate"),
    Unit("cqvc", "重庆工业职业技术学院", "vocational_school", "500112", "higher"),
    Unit("hbvc", "湖北汽车工业学院", "university", "420302"),
    Unit("caam", "中国汽车工业协会", "industry_organization", "110105"),
    Unit("catarc", "中国汽车技术研究中心有限公司", "research_institute", "120116"),
    Unit("gotion", "国轩高科股份有限公司", "enterprise", "340111"),
    Unit("xjvc", "新疆交通职业技术学院", "vocational_school", "650104", "higher"),
    Unit("sxauto", "陕西汽车控股集团有限公司", "enterprise", "610113"),
    # the Suzhou Industrial Park city consortium
    Unit("sipac", "苏州工业园区管理委员会", "government", "320506"),
    Unit("sipvc", "苏州工业园区职业技术学院", "vocational_school", "320506", "higher"),
    Unit("szvc", "苏州市职业大学", "vocational_school", "320508", "higher"),
    Unit("sztech", "苏州科技大学", "university", "320505"),
    Unit("innovent", "信达生物制药（苏州）有限公司", "enterprise", "320506"),
    Unit("bosch", "博世汽车部件（苏州）有限公司", "enterprise", "320506"),
    Unit("samsung", "三星电子（苏州）半导体有限公司", "enterprise", "320506"),
    Unit("szsec", "苏州工业园区工业技术学校", "vocational_school", "320506", "secondary"),
    Unit("nano", "中国科学院苏州纳米技术与纳米仿生研究所", "research_institute", "320506"),
    Unit("szia", "苏州市工业互联网产业联盟", "industry_organization", "320508"),
    Unit("hwsz", "华为技术有限公司苏州研究所", "enterprise", "320506"),
    Unit("sjtu", "上海交通大学", "university", "310104"),
    # the Ningbo development community
    Unit("nbedu", "宁波市教育局", "government", "330203"),
    Unit("nbpt", "宁波职业技术学院", "vocational_school", "330206", "higher"),
    Unit("nbcc", "宁波城市职业技术学院", "vocational_school", "330212", "higher"),
    Unit("nbu", "宁波大学", "university", "330211"),
    Unit("geely", "吉利汽车集团有限公司", "enterprise", "330282"),
    Unit("joyson", "均胜电子股份有限公司", "enterprise", "330212"),
    Unit("nbtrain", "宁波市职业技能培训中心", "other", "330203"),
    Unit("nbport", "宁波舟山港股份有限公司", "enterprise", "330206"),
]

BODIES = {
    "nev": {
        "name": "全国新能源汽车行业产教融合共同体",
        "kind": "industry",
        "industry": "新能源汽车",
        "division": "440300",
        "founded_on": "2023-06-18",
    },
    "sip": {
        "name": "苏州工业园区市域产教联合体",
        "kind": "city",
        "industry": "电子信息与生物医药",
        "division": "320506",
        "founded_on": "2023-09-12",
    },
    "nb": {
        "name": "宁波市职业教育发展共同体",
        "kind": "development",
        "industry": "智能制造与港航物流",
        "division": "330200",
        "founded_on": "2024-01-10",
    },
}

# (date, body, unit, action, detail): two years of membership, in recording order.
HISTORY = [
    ("2023-06-18", "nev", "byd", "admit", "lead"),
    ("2023-06-18", "nev", "tongji", "admit", "lead"),
    ("2023-06-18", "nev", "szpt", "admit", "lead"),
    ("2023-06-18", "nev", "catl", "admit", "participant"),
    ("2023-06-18", "nev", "caam", "admit", "participant"),
    ("2023-07-01", "nev", "saic", "admit", "participant"),
    ("2023-07-01", "nev", "jlu", "admit", "participant"),
    ("2023-07-01", "nev", "catarc", "admit", "participant"),
    ("2023-09-12", "sip", "sipac", "admit", "participant"),
    ("2023-09-12", "sip", "sipvc", "admit", "participant"),
    ("2023-09-12", "sip", "innovent", "admit", "participant"),
    ("2023-09-12", "sip", "bosch", "admit", "participant"),
    ("2023-09-12", "sip", "nano", "admit", "participant"),
    ("2023-10-08", "sip", "szvc", "admit", "participant"),
    ("2023-10-08", "sip", "sztech", "admit", "participant"),
    ("2023-11-20", "nev", "changan", "admit", "participant"),
    ("2023-11-20", "nev", "cqvc", "admit", "participant"),
    ("2024-01-10", "nb", "nbedu", "admit", "participant"),
    ("2024-01-10", "nb", "nbpt", "admit", "lead"),
    ("2024-01-10", "nb", "geely", "admit", "lead"),
    ("2024-01-10", "nb", "nbu", "admit", "participant"),
    ("2024-02-26", "sip", "samsung", "admit", "participant"),
    ("2024-02-26", "sip", "szsec", "admit", "participant"),
    ("2024-03-15", "nev", "hbvc", "admit", "participant"),
    ("2024-03-15", "nev", "gotion", "admit", "participant"),
    ("2024-04-02", "nb", "joyson", "admit", "participant"),
    ("2024-04-02", "nb", "nbcc", "admit", "participant"),
    ("2024-05-20", "sip", "szia", "admit", "participant"),
    ("2024-06-30", "nev", "jlu", "exit", "withdrawal"),
    ("2024-07-01", "sip", "hwsz", "admit", "participant"),
    ("2024-09-01", "nev", "xjvc", "admit", "participant"),
    ("2024-09-01", "nev", "sxauto", "admit", "participant"),
    ("2024-10-15", "sip", "sjtu", "admit", "participant"),
    ("2024-12-31", "sip", "samsung", "exit", "withdrawal"),
    ("2025-01-06", "nb", "nbtrain", "admit", "participant"),
    ("2025-03-01", "nev", "byd", "role", "participant"),
    ("2025-03-01", "nev", "catl", "role", "lead"),
    ("2025-03-18", "nb", "nbport", "admit", "participant"),
    ("2025-04-30", "nev", "sxauto", "exit", "removal"),
    ("2025-06-01", "nev", "jlu", "admit", "participant"),
    ("2025-07-01", "sip", "bosch", "exit", "withdrawal"),
    ("2025-09-01", "nb", "joyson", "exit", "withdrawal"),
    # recorded late: took effect in spring 2025, entered after the autumn exits
    ("2025-04-10", "nb", "nbcc", "role", "lead"),
    # admitted to the wrong body by mistake, and the admission annulled
    ("2025-09-15", "nb", "szsec", "admit", "participant"),
    ("", "nb", "szsec", "annul", "误录：该单位是苏州工业园区市域产教联合体的成员"),
]


def record_governance(ledger: Ledger, body: object, codes: dict[str, str]) -> None:
    """The Suzhou consortium's council: a founding charter, seven seats, four
    meetings — one without a quorum — a charter amendment that makes admissions
    and removals need a resolution, a revoked resolution, and an admission by
    resolution under the new charter."""
    p = PRINCIPAL
    ledger.adopt_charter(body, version="1.0", effective_on="2023-09-12", principal=p)
    seats = [
        ("sipac", "chair", "张明"),
        ("sipvc", "vice_chair", "李华"),
        ("sztech", "secretary_general", "王芳"),
        ("innovent", "director", "刘洋"),
        ("nano", "director", "陈静"),
        ("szvc", "director", "赵磊"),
    ]
    for key, office, person in seats:
        ledger.assign_seat(
            body,
            codes[key],
            representative=person,
            office=office,
            effective_on="2023-10-15",
            principal=p,
        )
    ledger.assign_seat(
        body,
        codes["szsec"],
        representative="孙倩",
        office="director",
        effective_on="2024-03-01",
        principal=p,
    )
    everyone = [codes[k] for k, _, _ in seats] + [codes["szsec"]]

    def resolve(
        meeting: int,
        matter: str,
        title: str,
        votes: tuple[int, int, int],
        revokes: str | None = None,
    ) -> str | None:
        return ledger.record_resolution(
            body,
            meeting=meeting,
            matter=matter,
            title=title,
            votes_for=votes[0],
            votes_against=votes[1],
            abstentions=votes[2],
            revokes=revokes,
            principal=p,
        ).number

    m1 = ledger.record_meeting(body, held_on="2024-03-20", present=everyone[:6], principal=p)
    resolve(m1, "ordinary", "2024年度工作计划", (6, 0, 0))
    m2 = ledger.record_meeting(body, held_on="2024-09-10", present=everyone[:4], principal=p)
    resolve(m2, "resources", "追加产业学院建设经费", (4, 0, 0))  # no quorum: 4 of 7
    m3 = ledger.record_meeting(body, held_on="2024-12-20", present=everyone, principal=p)
    base = resolve(m3, "resources", "设立共享实训基地（独墅湖校区）", (6, 0, 1))
    amendment = resolve(m3, "charter", "修订章程：成员加入与清退须经理事会决议", (6, 1, 0))
    ledger.adopt_charter(
        body,
        version="2.0",
        resolution=amendment,
        effective_on="2025-01-01",
        admission_requires_resolution=True,
        removal_requires_resolution=True,
        principal=p,
    )
    m4 = ledger.record_meeting(body, held_on="2025-03-05", present=everyone, principal=p)
    resolve(m4, "ordinary", "撤销设立共享实训基地决议（选址变更）", (7, 0, 0), revokes=base)
    admission = resolve(m4, "admission", "接纳中国汽车技术研究中心为成员单位", (5, 1, 1))
    ledger.admit_member(
        body,
        codes["catarc"],
        role="participant",
        effective_on="2025-03-10",
        resolution=admission,
        principal=p,
    )


COUNCIL = ["sipac", "sipvc", "sztech", "innovent", "nano", "szvc", "szsec"]

TRAINING_BASE = {
    "title": "共享实训基地（星湖街校区）",
    "kind": "training_base",
    "parties": [
        ("sipac", 4000, 2000),
        ("sipvc", 3000, 4000),
        ("innovent", 2000, 2500),
        ("nano", 1000, 1500),
    ],
    "amended": [
        ("sipac", 3500, 2000),
        ("sipvc", 2500, 3500),
        ("innovent", 2000, 2000),
        ("nano", 1000, 1000),
        ("hwsz", 1000, 1500),
    ],
}
INDUSTRY_COLLEGE = {
    "title": "生物医药产业学院",
    "kind": "industry_college",
    "parties": [
        ("innovent", 4500, 4000),
        ("szvc", 3000, 3500),
        ("sztech", 1500, 1500),
        ("sjtu", 1000, 1000),
    ],
}

# (date, agreement, what, party or None, contribution kind or None, yuan, description)
ENTRIES = [
    (
        "2025-04-01",
        "base",
        "contribution",
        "sipac",
        "funds",
        "3000000.00",
        "园区财政专项：实训基地建设启动资金",
    ),
    (
        "2025-04-01",
        "base",
        "contribution",
        "sipvc",
        "site",
        "1800000.00",
        "星湖街校区实训楼2400平方米三年使用权（按评估价）",
    ),
    (
        "2025-04-01",
        "college",
        "contribution",
        "innovent",
        "funds",
        "2000000.00",
        "产业学院共建资金",
    ),
    ("2025-04-01", "college", "contribution", "szvc", "site", "900000.00", "生物制药实训室场地"),
    (
        "2025-04-15",
        "base",
        "contribution",
        "innovent",
        "equipment",
        "1250000.00",
        "生物反应器与纯化设备一套（按协议作价）",
    ),
    ("2025-04-30", "base", "cost", None, None, "9800000.00", "实训楼改造装修"),
    (
        "2025-05-10",
        "base",
        "contribution",
        "nano",
        "technology",
        "600000.00",
        "纳米检测工艺授权（按协议作价）",
    ),
    (
        "2025-05-20",
        "college",
        "contribution",
        "sztech",
        "personnel",
        "300000.00",
        "教授团队课程开发",
    ),
    (
        "2025-06-15",
        "college",
        "contribution",
        "sjtu",
        "technology",
        "350000.00",
        "合成生物学课程与教材授权",
    ),
    (
        "2025-06-30",
        "base",
        "contribution",
        "sipvc",
        "personnel",
        "360000.00",
        "专任实训教师6人（半年工作量折算）",
    ),
    ("2025-06-30", "base", "cost", None, None, "456789.12", "耗材与检测试剂（第二季度）"),
    ("2025-06-30", "college", "cost", None, None, "733333.33", "课程开发与实训室建设"),
    ("2025-08-31", "base", "benefit", None, None, "320000.00", "暑期企业员工技能培训收入"),
    (
        "2025-09-01",
        "college",
        "contribution",
        "innovent",
        "equipment",
        "700000.00",
        "细胞培养实训设备",
    ),
    ("2025-09-01", "college", "contribution", "szvc", "personnel", "420000.00", "双师型教师团队"),
    ("2025-09-30", "base", "cost", None, None, "523456.78", "耗材、水电与设备维护（第三季度）"),
    ("2025-10-15", "base", "contribution", "hwsz", "technology", "800000.00", "鲲鹏实训云平台授权"),
    ("2025-11-01", "base", "contribution", "sipac", "funds", "1500000.00", "第二期建设资金"),
    ("2025-12-20", "base", "benefit", None, None, "865432.10", "社会化培训与职业技能等级认定收入"),
    ("2025-12-31", "base", "cost", None, None, "612345.67", "第四季度运行费用"),
    ("2025-12-31", "college", "cost", None, None, "1011111.11", "秋季学期教学运行"),
    (
        "2026-01-10",
        "base",
        "contribution",
        "innovent",
        "personnel",
        "240000.00",
        "企业导师驻校授课",
    ),
    ("2026-01-15", "college", "benefit", None, None, "540000.01", "订单班培养补助与企业培训收入"),
    (
        "2026-02-20",
        "college",
        "contribution",
        "sztech",
        "technology",
        "250000.00",
        "生物药工艺课程包",
    ),
    ("2026-03-01", "base", "contribution", "nano", "funds", "200000.00", "检测中心共建资金"),
    ("2026-03-15", "base", "benefit", None, None, "410000.00", "技术服务收入"),
    ("2026-03-31", "base", "cost", None, None, "498765.43", "第一季度运行费用"),
]
REPORT_DATE = "2026-03-31"


def record_cost_sharing(ledger: Ledger, body: object, codes: dict[str, str]) -> dict[str, object]:
    """The consortium's shared training base and industry college: approved in
    March 2025, a year of entries, the base's shares amended from October when
    Huawei's Suzhou institute joins it, and a cost typed ten times too large,
    reversed and recorded again."""
    p = PRINCIPAL
    council = [codes[k] for k in COUNCIL]

    def resolve(held_on: str, titles: list[tuple[str, tuple[int, int, int]]]) -> list[str]:
        meeting = ledger.record_meeting(body, held_on=held_on, present=council, principal=p)
        return [
            ledger.record_resolution(
                body,
                meeting=meeting,
                matter="agreement",
                title=title,
                votes_for=votes[0],
                votes_against=votes[1],
                abstentions=votes[2],
                principal=p,
            ).number
            or ""
            for title, votes in titles
        ]

    def parties(spec: list[tuple[str, int, int]]) -> list[dict[str, object]]:
        return [
            {"unit_id": codes[k], "cost_share_bp": c, "benefit_share_bp": b} for k, c, b in spec
        ]

    ids = {}
    for key, spec in (("base", TRAINING_BASE), ("college", INDUSTRY_COLLEGE)):
        ids[key] = ledger.draft_agreement(
            body,
            title=spec["title"],
            kind=spec["kind"],
            parties=parties(spec["parties"]),
            drafted_on="2025-03-15",
            principal=p,
        ).id
    approvals = resolve(
        "2025-03-25",
        [
            (f"批准{TRAINING_BASE['title']}共建协议", (7, 0, 0)),
            (f"批准{INDUSTRY_COLLEGE['title']}共建协议", (6, 0, 1)),
        ],
    )
    for key, number in zip(("base", "college"), approvals, strict=False):
        ledger.approve_agreement(
            ids[key], resolution=number, effective_on="2025-04-01", principal=p
        )
    amended = False
    for day, key, what, unit, kind, amount, description in ENTRIES:
        if not amended and day >= "2025-10-01":
            [number] = resolve(
                "2025-09-20", [("调整共享实训基地分担与分享比例（华为苏州研究所加入）", (7, 0, 0))]
            )
            ledger.amend_agreement(
                ids["base"],
                parties=parties(TRAINING_BASE["amended"]),
                resolution=number,
                effective_on="2025-10-01",
                principal=p,
            )
            amended = True
        if what == "contribution":
            ledger.record_contribution(
                ids[key],
                codes[str(unit)],
                kind=str(kind),
                amount=amount,
                contributed_on=day,
                description=description,
                principal=p,
            )
        elif what == "cost":
            entry = ledger.record_cost(
                ids[key], amount=amount, incurred_on=day, description=description, principal=p
            )
            if amount == "9800000.00":  # the typing mistake, corrected
                ledger.reverse_entry(
                    ids[key],
                    entry=entry.number,
                    principal=p,
                    reason="录入错误：金额多输一位，应为980000.00",
                )
                ledger.record_cost(
                    ids[key],
                    amount="980000.00",
                    incurred_on=day,
                    description=description,
                    principal=p,
                )
        else:
            ledger.record_benefit(
                ids[key], amount=amount, realized_on=day, description=description, principal=p
            )
    return ids


def load_demo(ledger: Ledger, fmt: str) -> None:
    ids = {}
    try:
        for unit in UNITS:
            ledger.register_unit(
                code=unit.code,
                name=unit.name,
                unit_type=unit.type,
                level=unit.level,
                division=unit.division,
                principal=PRINCIPAL,
            )
    except AlreadyRegistered:
        print(f"The demo is already loaded in {ledger.url}; showing it.")
        known = {b.name: b.id for b in membership.communities(ledger)}
        ids = {key: known[spec["name"]] for key, spec in BODIES.items()}
        agreements = [a.id for a in cost_sharing.agreements(ledger, ids["sip"]).agreements]
    else:
        for key, spec in BODIES.items():
            ids[key] = ledger.found_community(**spec, principal=PRINCIPAL).id
        codes = {u.key: u.code for u in UNITS}
        for day, body, unit, action, detail in HISTORY:
            _record(ledger, ids[body], codes[unit], day, action, detail)
        record_governance(ledger, ids["sip"], codes)
        made = record_cost_sharing(ledger, ids["sip"], codes)
        agreements = list(made.values())
        record_filings(ledger, ids)
        record_quality_and_funding(ledger, ids, made, codes)
        print(
            f"Loaded {len(UNITS)} member units ({len(QUALIFICATIONS)} qualifications), "
            f"{len(BODIES)} communities, {len(HISTORY)} membership changes, a council with "
            f"its register, {len(agreements)} cost-sharing agreements with "
            f"{len(FUNDING)} outside fundings, {len(FILINGS)} filings and "
            f"{len(INDICATORS)} indicator figures into {ledger.url}."
        )
    for community_id in ids.values():
        emit(membership.members(ledger, community_id), fmt)
    emit(governance.register(ledger, ids["sip"]), fmt)
    for agreement in agreements:
        emit(cost_sharing.report(ledger, agreement, as_of=REPORT_DATE), fmt)
    emit(cost_sharing.investment(ledger, ids["sip"], as_of=REPORT_DATE), fmt)
    emit(annual.obligations(ledger, ids["nev"], 2025, REPORT_DATE), fmt)
    emit(annual.indicators(ledger, ids["nev"], 2025), fmt)
    # things are named as a secretary names them: whole names are never ambiguous
    first = ledger.community(next(iter(ids.values()))).name
    sip = ledger.community(ids["sip"]).name
    agreement = ledger.agreement(agreements[0]).title
    print(
        "\nTry:\n"
        "  chanjiao community list\n"
        f"  chanjiao member list {first} --as-of 2024-12-31\n"
        f"  chanjiao unit show {UNITS[0].name}\n"
        "  chanjiao unit search 职业\n"
        f"  chanjiao council seat list {sip}\n"
        f"  chanjiao council meeting list {sip}\n"
        f"  chanjiao charter show {sip}\n"
        f"  chanjiao agreement show {agreement}\n"
        "  chanjiao obligations --year 2025\n"
        f"  chanjiao report quality {first} --as-of 2025-12-31\n"
        f"  chanjiao report investment {sip} --as-of 2025-12-31\n"
        f"  chanjiao report cost-sharing {agreement} --as-of 2025-09-30 "
        "--format xlsx -o 成本分摊.xlsx"
    )


FILINGS = [
    # (body, kind, year, filed on, title): the new-energy body's 2025 cycle, its
    # forecast late and its supply-demand lists missing; the consortium's product list
    ("nev", "work_plan", 2025, "2025-03-18", "2025 年度工作计划"),
    ("nev", "industry_analysis", 2025, "2025-03-28", "新能源汽车行业发展分析报告（2025）"),
    ("nev", "talent_forecast", 2025, "2025-04-21", "新能源汽车行业人才需求预测报告（2025）"),
    ("sip", "product_list", 2025, "2025-06-30", "园区核心产品清单（2025）"),
]


def record_filings(ledger: Ledger, ids: dict[str, object]) -> None:
    """Each document's digest stands for a file the body keeps (here, its title's)."""
    for body, kind, year, filed_on, title in FILINGS:
        ledger.record_filing(
            ids[body],
            kind=kind,
            year=year,
            filed_on=filed_on,
            title=title,
            sha256=hashlib.sha256(title.encode()).hexdigest(),
            size=len(title.encode()),
            principal=PRINCIPAL,
        )


QUALIFICATIONS = [
    # (unit, qualification, first day, last day or None): examples, not official lists
    ("catl", "integration_enterprise", "2021-06-01", None),
    ("byd", "listed_company", "2011-06-30", None),
    ("saic", "listed_company", "1997-11-25", None),
    ("bosch", "high_tech", "2022-12-01", "2025-11-30"),
    ("szpt", "double_high", "2019-12-10", None),
    ("tongji", "double_first_class", "2017-09-21", None),
    ("jlu", "double_first_class", "2017-09-21", None),
    ("szsec", "double_excellent", "2023-06-01", None),
]

FUNDING = [
    # (agreement, funder, kind of funder, resource, amount, received on, description)
    (
        "base",
        "江苏省财政厅",
        "government_fund",
        "funds",
        "2000000.00",
        "2025-05-10",
        "省级产教融合专项资金：实训基地设备购置",
    ),
    (
        "college",
        "苏州市慈善总会",
        "social",
        "equipment",
        "300000.00",
        "2025-06-18",
        "捐赠发酵罐两台",
    ),
]

INDICATORS = [
    # (body, indicator, year, value, reporting unit or None): the new-energy body's figures
    ("nev", "core_courses", 2024, "8", None),
    ("nev", "core_courses", 2025, "12", None),
    ("nev", "students_order_classes", 2024, "260", "byd"),
    ("nev", "students_order_classes", 2025, "180", "byd"),
    ("nev", "students_order_classes", 2025, "140", "catl"),
    ("nev", "funds_invested", 2025, "1200万", None),
    ("nev", "graduates_hired_by_members", 2025, "415", None),
]


def record_quality_and_funding(
    ledger: Ledger, ids: dict[str, object], agreements: dict[str, object], codes: dict[str, str]
) -> None:
    """The members' qualifications, outside funding of the consortium's agreements, and
    the new-energy body's indicators; each evidence digest stands for a file (its text's)."""
    for unit, qualification, since, until in QUALIFICATIONS:
        ledger.qualify_unit(
            codes[unit],
            qualification=qualification,
            since=since,
            until=until,
            source="示例名单（演示数据）",
            principal=PRINCIPAL,
        )
    for key, funder, funder_kind, kind, amount, day, description in FUNDING:
        ledger.record_funding(
            agreements[key],
            funder=funder,
            funder_kind=funder_kind,
            kind=kind,
            amount=amount,
            received_on=day,
            description=description,
            principal=PRINCIPAL,
        )
    for body, indicator, year, value, unit in INDICATORS:
        ledger.record_indicator(
            ids[body],
            indicator=indicator,
            year=year,
            value=value,
            evidence_sha256=hashlib.sha256(f"{indicator} {year} {unit}".encode()).hexdigest(),
            unit=codes[unit] if unit else None,
            principal=PRINCIPAL,
        )


def _record(ledger: Ledger, body: object, code: str, day: str, action: str, detail: str) -> None:
    if action == "admit":
        ledger.admit_member(body, code, role=detail, effective_on=day, principal=PRINCIPAL)
    elif action == "exit":
        ledger.exit_member(body, code, reason=detail, effective_on=day, principal=PRINCIPAL)
    elif action == "annul":
        ledger.annul_member_record(body, code, reason=detail, principal=PRINCIPAL)
    else:
        ledger.change_member_role(body, code, role=detail, effective_on=day, principal=PRINCIPAL)
