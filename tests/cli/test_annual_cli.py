"""The annual cycle through the command line, on both stores: a filing kept by the
digest of its file, a file checked against it, and the obligations of a body and of
every body on a date."""

from __future__ import annotations

import hashlib
import json
from io import BytesIO
from pathlib import Path

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2025-12-20T02:00:00Z"):
        yield


@pytest.fixture
def body(run) -> str:
    code, out, err = run(
        "community",
        "found",
        "--name",
        "全国智能制造行业产教融合共同体",
        "--kind",
        "行业",
        "--industry",
        "智能制造",
        "--division",
        "320506",
        "--founded-on",
        "2024-01-01",
        "--format",
        "json",
    )
    assert code == 0, err
    return json.loads(out)["id"]


def check_plan(run, body: str, path: Path) -> tuple[int, str, str]:
    """``filing check`` of ``path`` against the body's 2025 work plan."""
    return run(
        "filing", "check", body, "--kind", "work_plan", "--year", "2025", "--file", str(path)
    )


def test_a_filing_is_kept_by_its_files_digest_and_a_file_is_checked_against_it(
    run, body, tmp_path: Path
) -> None:
    plan = tmp_path / "2025年度工作计划.pdf"
    plan.write_bytes(b"%PDF-1.7 plan" * 1000)
    code, out, err = run(
        "filing",
        "add",
        body,
        "--kind",
        "年度工作计划",
        "--year",
        "2025",
        "--filed-on",
        "2025-03-20",
        "--title",
        "2025 年度工作计划",
        "--file",
        str(plan),
        "--format",
        "json",
    )
    assert code == 0, err
    [filed] = json.loads(out)["filings"]
    assert filed["sha256"] == hashlib.sha256(plan.read_bytes()).hexdigest()
    assert filed["size"] == 13000 and filed["kind"] == "work_plan"
    code, out, _ = check_plan(run, body, plan)
    assert code == 0 and out.startswith("MATCHES")
    revised = tmp_path / "revised.pdf"
    revised.write_bytes(b"%PDF-1.7 revised plan")
    code, _, err = run(
        "filing",
        "add",
        body,
        "--kind",
        "work_plan",
        "--year",
        "2025",
        "--filed-on",
        "2025-04-02",
        "--title",
        "2025 年度工作计划（修订）",
        "--file",
        str(revised),
    )
    assert code == 0, err
    code, out, _ = check_plan(run, body, plan)
    assert code == 6 and out.startswith("SUPERSEDED")
    plan.write_bytes(b"%PDF-1.7 plan, edited afterwards")
    code, out, _ = check_plan(run, body, plan)
    assert code == 6 and out.startswith("NOT FILED")
    code, out, _ = run("filing", "list", body)
    assert code == 0 and "2025 年度工作计划（修订）" in out and "superseded" in out
    code, _, err = run(
        "filing",
        "add",
        body,
        "--kind",
        "work_plan",
        "--year",
        "2025",
        "--filed-on",
        "2025-04-02",
        "--title",
        "x",
    )
    assert code == 2 and "--file FILE" in err
    code, _, err = run(
        "filing",
        "add",
        body,
        "--kind",
        "work_plan",
        "--year",
        "2025",
        "--filed-on",
        "2025-04-02",
        "--title",
        "x",
        "--file",
        str(tmp_path / "none.pdf"),
    )
    assert code == 2 and "cannot read the file" in err


def test_obligations_of_a_body_and_of_every_body_on_a_date(run, body, tmp_path: Path) -> None:
    analysis = tmp_path / "analysis.docx"
    analysis.write_bytes(b"analysis")
    code, _, err = run(
        "filing",
        "add",
        body,
        "--kind",
        "industry_analysis",
        "--year",
        "2025",
        "--filed-on",
        "2025-04-10",
        "--title",
        "行业发展分析报告",
        "--file",
        str(analysis),
    )
    assert code == 0, err
    code, out, _ = run(
        "obligations", body, "--year", "2025", "--as-of", "2025-05-01", "--format", "json"
    )
    shown = {o["kind"]: o for o in json.loads(out)["obligations"]}
    assert (shown["industry_analysis"]["status"], shown["industry_analysis"]["days_late"]) == (
        "late",
        10,
    )
    assert shown["work_plan"]["status"] == "missing"
    assert shown["summary_report"]["status"] == "not_yet_due"
    code, out, _ = run("obligations", body, "--year", "2025", "--as-of", "2025-05-01")
    assert code == 0 and "0 of 4 due filed on time (0%)" in out and "逾期提交" in out
    code, out, _ = run("obligations", "--year", "2025", "--format", "json")
    [listed] = json.loads(out)["bodies"]
    assert (listed["late"], listed["missing"]) == (1, 4)
    code, out, _ = run("obligations", body, "--year", "2025", "--format", "csv")
    assert code == 0 and out.splitlines()[0].lstrip("\ufeff").startswith("year,kind,kind_name")
    book = tmp_path / "o.xlsx"
    code, _, err = run("obligations", "--year", "2025", "--format", "xlsx", "--output", str(book))
    assert code == 0, err
    sheet = load_workbook(BytesIO(book.read_bytes())).active
    assert sheet.title == "全国报送 obligations" and sheet.cell(2, 2).value


def test_an_indicator_recorded_with_its_evidence_and_reported_beside_the_year_before(
    run, body, tmp_path: Path
) -> None:
    evidence = tmp_path / "合作协议汇编.pdf"
    evidence.write_bytes(b"evidence")
    for year, value in (("2024", "12"), ("2025", "15")):
        code, _, err = run(
            "indicator",
            "record",
            body,
            "--indicator",
            "核心课程",
            "--year",
            year,
            "--value",
            value,
            "--evidence",
            str(evidence),
        )
        assert code == 0, err
    code, out, _ = run("indicator", "report", body, "--year", "2025", "--format", "json")
    row = next(r for r in json.loads(out)["indicators"] if r["indicator"] == "core_courses")
    assert (row["value"], row["previous"]) == (15, 12)
    assert row["reported"][0]["evidence_sha256"] == hashlib.sha256(b"evidence").hexdigest()
    code, out, _ = run("indicator", "report", body, "--year", "2025")
    assert code == 0 and "共同开发核心课程数" in out
    code, out, _ = run("indicator", "report", body, "--year", "2025", "--format", "csv")
    assert code == 0 and "core_courses" in out
    code, out, _ = run("indicator", "report", "--year", "2025", "--format", "json")
    national = next(r for r in json.loads(out)["indicators"] if r["indicator"] == "core_courses")
    assert (national["total"], national["by_kind"]) == (15, {"industry": 15})
    code, out, _ = run("indicator", "report", "--year", "2025")
    assert code == 0 and "行业产教融合共同体 15" in out
    code, _, err = run(
        "indicator", "record", body, "--indicator", "core_courses", "--year", "2025", "--value", "1"
    )
    assert code == 2 and "--evidence FILE" in err


def test_the_yearly_package_is_signed_and_any_edit_is_found(
    run, body, tmp_path: Path, monkeypatch
) -> None:
    from adapters.signing import SigningKey

    monkeypatch.setenv("CHANJIAO_SIGNING_KEY", str(tmp_path / "signing.key"))
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(b"plan")
    run(
        "filing",
        "add",
        body,
        "--kind",
        "work_plan",
        "--year",
        "2025",
        "--filed-on",
        "2025-03-01",
        "--title",
        "2025 年度工作计划",
        "--file",
        str(plan),
    )
    run(
        "indicator",
        "record",
        body,
        "--indicator",
        "core_courses",
        "--year",
        "2025",
        "--value",
        "7",
        "--evidence",
        str(plan),
    )
    out = tmp_path / "2025.json"
    code, _, err = run("report", "annual", body, "--year", "2025", "--output", str(out))
    assert code == 0 and "signed with key" in err, err
    content, signature, _ = out.read_bytes().split(b"\n")
    made = json.loads(content)
    assert (made["format"], made["year"], made["as_of"]) == (
        "chanjiao-annual-v1",
        2025,
        "2025-12-20",
    )
    assert made["filings"]["filings"][0]["sha256"] == hashlib.sha256(b"plan").hexdigest()
    courses = next(r for r in made["indicators"]["indicators"] if r["indicator"] == "core_courses")
    assert courses["value"] == 7
    key = SigningKey.load(tmp_path / "signing.key", create=False)
    code, out_text, _ = run(
        "report", "verify-annual", str(out), "--key-id", key.id, "--format", "json"
    )
    assert code == 0 and json.loads(out_text)["ok"]
    assert run("report", "verify-annual", str(out))[0] == 7  # no key id given
    assert run("report", "verify-annual", str(out), "--key-id", "0" * 16)[0] == 6
    edited = tmp_path / "edited.json"
    edited.write_bytes(content.replace(b'"value":7', b'"value":70') + b"\n" + signature + b"\n")
    code, out_text, _ = run(
        "report", "verify-annual", str(edited), "--key-id", key.id, "--format", "json"
    )
    assert code == 6 and "changed after signing" in json.loads(out_text)["problem"]
    book = tmp_path / "2025.xlsx"
    code, _, err = run("report", "annual", body, "--year", "2025", "-o", str(book), "--xlsx")
    assert code == 0, err
    sheets = load_workbook(BytesIO(book.read_bytes())).sheetnames
    assert "报送文件 filings" in sheets and "监测指标 indicators" in sheets
    assert "成员资质 quality" in sheets
    assert made["quality"]["community_id"] == body


def test_a_members_qualifications_count_in_the_quality_report_on_each_date(
    run, body, tmp_path: Path
) -> None:
    from tests.factories import credit_code

    code, out, err = run(
        "unit",
        "register",
        "--code",
        credit_code(7),
        "--name",
        "苏州智能装备有限公司",
        "--type",
        "企业",
        "--division",
        "320506",
        "--format",
        "json",
    )
    assert code == 0, err
    unit = json.loads(out)["id"]
    code, _, err = run(
        "member", "admit", body, unit, "--role", "participant", "--effective-on", "2024-02-01"
    )
    assert code == 0, err
    notice = tmp_path / "第一批产教融合型企业名单.pdf"
    notice.write_bytes(b"list")
    code, out, err = run(
        "unit",
        "qualify",
        "苏州智能装备",
        "--qualification",
        "产教融合型企业",
        "--since",
        "2024-06-01",
        "--source",
        "发改办社会〔2024〕1号",
        "--file",
        str(notice),
        "--format",
        "json",
    )
    assert code == 0, err
    [held] = json.loads(out)["qualifications"]
    assert held["sha256"] == hashlib.sha256(b"list").hexdigest()
    code, _, err = run(
        "unit",
        "end-qualification",
        unit,
        "--qualification",
        "integration_enterprise",
        "--ended-on",
        "2025-07-01",
        "--reason",
        "复核未通过",
    )
    assert code == 0, err
    shown = {}
    for day in ("2024-05-31", "2024-06-01", "2025-06-30", "2025-07-01"):
        code, out, _ = run("report", "quality", body, "--as-of", day, "--format", "json")
        report = json.loads(out)
        shown[day] = (report["by_qualification"][0]["units"], report["qualified_share"])
    assert shown == {
        "2024-05-31": (0, "0.0000"),
        "2024-06-01": (1, "1.0000"),
        "2025-06-30": (1, "1.0000"),
        "2025-07-01": (0, "0.0000"),
    }
    code, out, _ = run("report", "quality", "--as-of", "2025-01-01", "--format", "csv")
    assert code == 0 and "qualification,integration_enterprise,产教融合型企业,1," in out
    code, out, _ = run("report", "quality", body, "--as-of", "2025-01-01")
    assert code == 0 and "holding at least one" in out
    code, _, err = run(
        "unit", "qualify", unit, "--qualification", "双高", "--since", "2024-01-01", "--source", "x"
    )
    assert code == 4 and "双高计划学校 is held only by" in err
