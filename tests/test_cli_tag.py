"""`duta tag [--json] FILE|-`: plain text and HTML in, the PRODUCT.md contract out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
TAXONOMY = ROOT / "seeds" / "taxonomy.yaml"

PLAIN = """\
Asosiasi Persahabatan Vietnam-Jerman peringati 50 tahun hubungan diplomatik
Asosiasi Persahabatan Vietnam-Jerman menyelenggarakan pertemuan di Hanoi pada 23/09/2025 \
untuk memperingati 50 tahun terjalinnya hubungan diplomatik antara Vietnam dan Republik \
Federal Jerman.
Para anggota asosiasi, banyak di antaranya pernah belajar dan bekerja di Jerman, berbagi \
kenangan tentang persahabatan kedua bangsa. Duta Besar Jerman mengatakan pertukaran \
antarmasyarakat telah menjadi fondasi kokoh bagi Kemitraan Strategis kedua negara.
"""

# A Nhân Dân article page as the site serves it: sapo in div.article__sapo, body in
# div.article__body, navigation and related links around them.
HTML = """\
<!DOCTYPE html>
<html lang="vi">
<head>
  <meta charset="utf-8">
  <title>Việt Nam và Đan Mạch mở rộng hợp tác năng lượng tái tạo | Báo Nhân Dân điện tử</title>
  <meta property="og:title" content="Việt Nam và Đan Mạch mở rộng hợp tác năng lượng tái tạo">
  <meta property="og:description" content="Việt Nam và Đan Mạch ký kết giai đoạn 4 của \
Chương trình Đối tác năng lượng, tập trung vào điện gió ngoài khơi.">
  <meta property="og:site_name" content="Báo Nhân Dân điện tử">
  <meta property="article:published_time" content="2025-05-27T10:15:00+07:00">
</head>
<body>
  <nav class="main-nav"><ul><li><a href="/">Trang chủ</a></li>
    <li><a href="/chinhtri/">Chính trị</a></li><li><a href="/kinhte/">Kinh tế</a></li></ul></nav>
  <main>
    <article class="article">
      <h1 class="article__title">Việt Nam và Đan Mạch mở rộng hợp tác năng lượng tái tạo</h1>
      <div class="article__meta"><time>Thứ Ba, 27/05/2025 10:15</time></div>
      <div class="article__sapo">NDO – Ngày 27/5/2025, tại Hà Nội, Việt Nam và Đan Mạch đã ký
        kết giai đoạn 4 của Chương trình Đối tác năng lượng, tập trung vào điện gió ngoài khơi
        và lộ trình chuyển đổi xanh.</div>
      <div class="article__body">
        <p>Đan Mạch sẽ chia sẻ kinh nghiệm quy hoạch điện gió ngoài khơi và hỗ trợ kỹ thuật cho
        các cơ quan của Việt Nam trong xây dựng thị trường carbon.</p>
        <p>Hai bên khẳng định hợp tác năng lượng là trụ cột của quan hệ Đối tác chiến lược về
        tăng trưởng xanh giữa hai nước, góp phần thực hiện cam kết phát thải ròng bằng 0 vào
        năm 2050 của Việt Nam.</p>
        <p>Đại sứ Đan Mạch cho biết các doanh nghiệp Đan Mạch mong muốn tham gia sâu hơn vào
        các dự án năng lượng tái tạo tại Việt Nam.</p>
      </div>
    </article>
    <aside class="related"><h3>Tin liên quan</h3>
      <ul><li><a href="/a.html">Giá vàng hôm nay tăng mạnh</a></li></ul></aside>
  </main>
  <footer>© Báo Nhân Dân. Bản quyền thuộc về Báo Nhân Dân.</footer>
</body>
</html>
"""


@pytest.fixture(autouse=True)
def _taxonomy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUTA_TAXONOMY", str(TAXONOMY))


def _assert_contract(result: dict[str, Any]) -> None:
    assert set(result) >= {"title", "language", "relevant", "summary", "tags"}
    assert isinstance(result["title"], str)
    assert isinstance(result["relevant"], bool)
    assert isinstance(result["summary"], str)
    for tag in result["tags"]:
        assert set(tag) == {"id", "facet", "label", "score", "evidence"}
        assert tag["id"].startswith(f"{tag['facet']}/")
        assert isinstance(tag["label"], str) and tag["label"]
        assert 0.0 < tag["score"] <= 1.0
        assert tag["evidence"] and all(isinstance(p, str) for p in tag["evidence"])


def _tags(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tag["id"]: tag for tag in result["tags"]}


def test_plain_text_json_follows_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "jerman.txt"
    document.write_text(PLAIN, encoding="utf-8")
    assert main(["tag", "--json", str(document)]) == 0
    result = json.loads(capsys.readouterr().out)
    _assert_contract(result)
    assert result["title"] == PLAIN.splitlines()[0]
    assert result["language"] == "id"
    assert result["relevant"] is True
    assert result["summary"].startswith("Asosiasi Persahabatan Vietnam-Jerman menyelenggarakan")
    tags = _tags(result)
    assert tags["partner/de"]["evidence"] == ["Jerman", "Republik Federal Jerman"]
    assert tags["partner/de"]["label"] == "Jerman"  # in the document's language
    expected = {"theme/people-to-people", "org/friendship-association", "event/anniversary"}
    assert expected <= set(tags)


def test_html_json_is_extracted_then_tagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "dan-mach.html"
    page.write_text(HTML, encoding="utf-8")
    assert main(["tag", "--json", str(page)]) == 0
    result = json.loads(capsys.readouterr().out)
    _assert_contract(result)
    assert result["title"] == "Việt Nam và Đan Mạch mở rộng hợp tác năng lượng tái tạo"
    assert result["language"] == "vi"
    assert result["relevant"] is True
    assert "Đan Mạch" in result["summary"] and len(result["summary"]) <= 400
    tags = _tags(result)
    assert tags["partner/dk"]["label"] == "Đan Mạch"
    assert "Đan Mạch" in tags["partner/dk"]["evidence"]
    assert "theme/green-transition" in tags
    assert "Giá vàng" not in json.dumps(result, ensure_ascii=False)  # related links dropped


def test_html_is_recognised_without_a_suffix_and_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(HTML.encode("utf-8")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["tag", "--json", "-"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["title"] == "Việt Nam và Đan Mạch mở rộng hợp tác năng lượng tái tạo"
    assert "partner/dk" in _tags(result)


def test_human_output_explains_each_tag_with_its_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "jerman.txt"
    document.write_text(PLAIN, encoding="utf-8")
    assert main(["tag", str(document)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(PLAIN.splitlines()[0])
    assert "language: id   relevant to Vietnam's foreign relations" in out
    line = next(line for line in out.splitlines() if line.startswith("partner/de "))
    assert "Jerman  ← “Jerman”, “Republik Federal Jerman”" in line


def test_an_unrelated_document_is_not_relevant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = tmp_path / "bola.txt"
    document.write_text(
        "Liga Inggris: Liverpool menang tipis atas Chelsea di Anfield\n"
        "Gol tunggal Mohamed Salah membawa Liverpool menang 1-0 atas Chelsea pada pekan ke-13 "
        "Liga Inggris. Kemenangan ini membuat Liverpool naik ke posisi kedua klasemen.\n",
        encoding="utf-8",
    )
    assert main(["tag", str(document)]) == 0
    out = capsys.readouterr().out
    assert "not relevant to Vietnam's foreign relations" in out
    assert "partner/gb" not in out


def test_a_missing_file_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tag", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt: cannot read" in capsys.readouterr().err


def test_the_installed_command_prints_the_contract(tmp_path: Path) -> None:
    document = tmp_path / "jerman.txt"
    document.write_text(PLAIN, encoding="utf-8")
    env = {**os.environ, "DUTA_TAXONOMY": str(TAXONOMY)}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "duta"), "tag", "--json", str(document)],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout)
    _assert_contract(result)
    assert "partner/de" in _tags(result)
