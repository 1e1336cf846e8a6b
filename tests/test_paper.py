"""The paper copy: the QR code's text and its reconciliation with the submitted versions, the printable form and
checklist as a PDF (Chinese text extracted back, the QR image module by module), and the command's one-line refusals."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import segno
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app
from client.accounts import add
from client.calls import prepare
from documents.form_pdf import CHECKLIST, TITLE, Printed, form_pdf, needed, qr_png
from models.call import load_call
from models.forms import ApplicationForm
from models.identity import Grant
from models.messages import OnlineVersion, TransitionRecord
from models.paper import PREFIX, BadCode, PaperCode, parse_code, reconcile, submissions
from tests.conftest import CALLS

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"
SHA1, SHA2, OTHER = "1" * 64, "2" * 64, "f" * 64
ZONE = load_call(CALL_000).zone


def record(seq: int, trigger: str, **data: str) -> TransitionRecord:
    at = datetime(2025, 3, 10, 9, 0, tzinfo=ZONE) + timedelta(days=seq)
    return TransitionRecord(seq, trigger, "draft", "x", "pi-1", "applicant", "", at, data=data)


HISTORY = [record(0, "submit", receipt="a1/1", content_sha256=SHA1), record(1, "return"),
           record(2, "resubmit", receipt="a1/2", content_sha256=SHA2)]


def test_the_code_carries_receipt_and_hash_and_reads_back() -> None:
    code = PaperCode("a1/2", SHA2)
    assert code.text() == f"grantflow-paper/1;receipt=a1/2;sha256={SHA2}"
    assert parse_code(f"  {code.text()}\n") == code
    assert (code.application_id, code.version) == ("a1", 2)


@pytest.mark.parametrize("text, line", [
    ("https://weixin.qq.com/r/abc", "not a grantflow paper code (it does not start with grantflow-paper/1): "
                                    "'https://weixin.qq.com/r/abc'"),
    (f"grantflow-paper/2;receipt=a1/1;sha256={SHA1}", "a paper code of format 'grantflow-paper/2', which this "
                                                      "grantflow does not read (it reads grantflow-paper/1)"),
    (f"{PREFIX};receipt=a1;sha256={SHA1}", "malformed paper code: receipt 'a1' is not APPLICATION/N"),
    (f"{PREFIX};receipt=a1/0;sha256={SHA1}", "malformed paper code: receipt 'a1/0' is not APPLICATION/N"),
    (f"{PREFIX};receipt=a1/1;sha256={SHA1[:63]}", "is not 64 lowercase hex digits"),
    (f"{PREFIX};receipt=a1/1", "malformed paper code: sha256 '' is not 64 lowercase hex digits"),
    ("x" * 301, "not a grantflow paper code: 301 characters, at most 300"),
])
def test_a_malformed_or_foreign_code_is_one_clear_line(text: str, line: str) -> None:
    with pytest.raises(BadCode) as caught:
        parse_code(text)
    assert line in str(caught.value) and "\n" not in str(caught.value)


def test_reconciliation_says_matches_or_which_version_it_differs_from() -> None:
    versions = submissions(list(reversed(HISTORY)), ZONE)
    assert [v.code.receipt for v in versions] == ["a1/1", "a1/2"]
    ok = reconcile("a1", PaperCode("a1/2", SHA2), versions)
    assert ok.matches and (ok.online_version, ok.paper_version) == (2, 2)
    assert ok.line == ("matches the online version: version 2 (receipt a1/2, submitted 2025-03-12T09:00:00+08:00), "
                       "content sha256 222222222222")
    head = "differs from version 2, the online version (receipt a1/2, submitted 2025-03-12T09:00:00+08:00): "
    cases = {
        PaperCode("a1/1", SHA1): "the paper copy is version 1 (submitted 2025-03-10T09:00:00+08:00)",
        PaperCode("a1/2", SHA1): "the paper copy carries receipt a1/2 but the content of version 1 (sha256 111111111111)",
        PaperCode("a1/2", OTHER): "its content sha256 ffffffffffff is of no submitted version (receipt a1/2 froze "
                                  "222222222222)",
        PaperCode("a1/7", SHA2): "receipt a1/7 was never issued (versions 1-2)",
    }
    for code, why in cases.items():
        verdict = reconcile("a1", code, versions)
        assert not verdict.matches and verdict.line == head + why, verdict.line
        assert verdict.online_version == 2
    same = submissions([record(0, "submit", receipt="a1/1", content_sha256=SHA1),
                        record(2, "resubmit", receipt="a1/2", content_sha256=SHA1)], ZONE)
    assert reconcile("a1", PaperCode("a1/1", SHA1), same).line.endswith("; its content is the same")
    foreign = reconcile("a1", PaperCode("b9/1", SHA1), versions)
    assert not foreign.matches and foreign.line == "a foreign code: it is of application b9 (receipt b9/1), not of a1"
    assert reconcile("a1", PaperCode("a1/1", SHA1), []).line.startswith("application a1 has no submitted version")


def _printed(form: ApplicationForm | None = None, flags: dict[str, bool] | None = None) -> Printed:
    prepared = prepare(load_call(CALL_000))
    call = prepared.definition
    version = OnlineVersion(call, "a1", "key", "深部找矿预测方法研究", {"applicant": "pi-1", "unit_admin": "u1"},
                            flags or {}, ["id_card"], form, "a1/2", SHA2)
    return Printed(version, PaperCode("a1/2", SHA2), HISTORY[2].at, prepared.timetable.get("paper"),
                   {"pi-1": "王磊"})


def _modules(png: bytes | object) -> list[list[bool]]:
    """The dark modules of a QR image as segno draws it (4 pixels a module, a quiet zone of 4 modules)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)) if isinstance(png, bytes) else png
    gray = image.convert("L")  # type: ignore[attr-defined]
    n = gray.width // 4 - 8
    return [[gray.getpixel((4 * (c + 4) + 2, 4 * (r + 4) + 2)) < 128 for c in range(n)] for r in range(n)]


def test_the_pdf_carries_the_chinese_title_the_receipt_and_the_qr_code_of_the_version() -> None:
    printed = _printed()
    content = form_pdf(printed)
    assert form_pdf(printed) == content  # the same version prints the same bytes
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    assert TITLE in first and CHECKLIST in second
    assert "2025年山西省基础研究计划（产业发展类）联合资助项目（地勘）" in first
    assert "深部找矿预测方法研究" in first and "重点项目" in first and "王磊（pi-1）" in first and "u1" in first
    assert "回执号：a1/2" in first and "回执号：a1/2" in second and "第2版，提交于2025年3月12日09:00" in first
    assert "2025年4月14日08:30起至2025年4月16日17:30止" in second and "身份证正反面复印件" in second
    payload = f"grantflow-paper/1;receipt=a1/2;sha256={SHA2}"
    expected = [[bool(m) for m in row] for row in segno.make(payload, error="m").matrix]
    assert _modules(qr_png(printed.code)) == expected
    for page in reader.pages:
        [embedded] = page.images
        assert _modules(embedded.image) == expected  # the QR image in the PDF is the code of this version


def test_the_checklist_lists_what_the_flags_and_conditions_call_for() -> None:
    call = load_call(CALL_000)
    kinds = {a.kind: a for a in call.attachments}
    assert needed(kinds["id_card"], {}) == "必须"
    assert needed(kinds["ethics_review"], {}) == "如适用"
    assert needed(kinds["representative_paper"], {}) == "可选"
    form = ApplicationForm(application_id="a1", call_id=call.id, programme=call.programme, category="key",
                           title="深部找矿", pi_id="pi-1", unit_id="u1", requested_cny=500000, abstract="摘要<b>")
    text = PdfReader(io.BytesIO(form_pdf(_printed(form)))).pages[0].extract_text()
    assert "500,000" in text and "摘要<b>" in text  # the applicant's text is printed as written, not as markup


@pytest.fixture
def cli_env(db: Engine, tmp_path: Path) -> dict[str, str]:
    add(db, "clerk", None, [Grant("agency", "*")])
    return {"GRANTFLOW_DATABASE_URL": str(db.url), "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9",
            "GRANTFLOW_VAR_DIR": str(tmp_path / "var"), "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}


def test_the_paper_command_refuses_a_foreign_code_in_one_line(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["paper", "a1", "https://example.org/x"], env=cli_env)
    assert (result.exit_code, result.output.count("\n")) == (1, 1) and "not signed in" in result.output
    result = CliRunner().invoke(app, ["--operator", "paper", "a1", "https://example.org/x"], env=cli_env)
    assert result.exit_code == 1
    assert result.output == ("error: not a grantflow paper code (it does not start with grantflow-paper/1): "
                             "'https://example.org/x'\n")
