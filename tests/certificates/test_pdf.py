"""The printable certificate: names in their own script survive text extraction, and the QR is right.

Uses poppler-utils (pdftotext, pdfinfo, pdffonts, pdftoppm). Without them the tests are
skipped on a developer's machine and fail under CI, where they must be installed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel import dates as babel_dates
import qrcode
import qrcode.constants
from PIL import Image

from app.certificates.codes import format_code, new_code
from app.certificates.pdf import (
    LABEL_KEYS,
    QR_QUIET_MODULES,
    QR_SIZE,
    QR_X,
    QR_Y,
    UnsupportedCharactersError,
    CertificateText,
    cache_key,
    font_directory,
    render_certificate_pdf,
)

LABELS = {
    "heading": "Certificate of completion",
    "presented_to": "This certifies that",
    "completed": "has successfully completed the course",
    "date": "Date",
    "code": "Certificate code",
    "verify": "Verify this certificate at",
}
CODE = new_code()
VERIFY_URL = f"https://nergi.example.org/verify/{CODE}#t=" + "eyJhbGciOiJFZERTQSJ9." * 16


def _arguments(**overrides: Any) -> CertificateText:
    arguments: dict[str, Any] = {
        "learner_name": "Anna Ivanova",
        "course_title": "The human-rights-based approach and its five working principles",
        "issued_on": date(2025, 6, 1),
        "locale": "en",
        "programme": "Young Professionals Programme — CENN",
        "signatory_name": "Tamar Beridze",
        "signatory_title": "Programme Director",
        "code": format_code(CODE),
        "verify_url": VERIFY_URL,
        "labels": LABELS,
    }
    arguments.update(overrides)
    return CertificateText(**arguments)


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} (Debian package poppler-utils) is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(tool: str, *arguments: str) -> str:
    return subprocess.run(
        [_poppler(tool), *arguments], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def _write(tmp_path: Path, pdf: bytes) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return str(path)


@pytest.mark.parametrize(
    ("name", "locale"),
    [
        ("ნინო ბერიძე", "ka"),
        ("Արմեն Սարգսյան", "hy"),
        ("Aygün Məmmədova", "az"),
        ("Анна Иванова", "ru"),
    ],
)
def test_name_and_date_come_back_exactly_from_the_pdf(tmp_path: Path, name: str, locale: str) -> None:
    # The date's wording is Babel's locale data, which changes between releases (Armenian did in
    # 2.19): expect whatever the same call gives, and check that it survives into the PDF whole.
    written_date = babel_dates.format_date(date(2025, 6, 1), format="long", locale=locale)
    assert "2025" in written_date
    pdf = render_certificate_pdf(_arguments(learner_name=name, locale=locale))
    lines = _run("pdftotext", "-enc", "UTF-8", _write(tmp_path, pdf), "-").splitlines()
    assert name in lines
    # pdftotext writes the narrow no-break spaces CLDR uses (Russian "2025\u202fг.") as spaces.
    assert " ".join(f"Date: {written_date}".split()) in [" ".join(line.split()) for line in lines]
    assert format_code(CODE) in lines
    assert f"https://nergi.example.org/verify/{CODE}" in lines  # printed without the token


def test_page_is_a4_landscape_with_embedded_package_fonts(tmp_path: Path) -> None:
    path = _write(tmp_path, render_certificate_pdf(_arguments()))
    assert "Page size:       841.89 x 595.28 pts (A4)" in _run("pdfinfo", path)
    fonts = _run("pdffonts", path).splitlines()[2:]
    assert {line.split()[0].split("+")[-1] for line in fonts} == {
        "DejaVuSansBook",
        "DejaVuSansBold",
        "DejaVuSansMonoBold",
    }
    assert all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in fonts)  # emb sub uni
    assert "matplotlib" in font_directory().parts


def test_fonts_are_found_without_running_matplotlib() -> None:
    if "matplotlib" in sys.modules:
        pytest.skip("another test imported matplotlib already")
    render_certificate_pdf(_arguments())
    assert "matplotlib" not in sys.modules


def test_qr_code_on_the_page_encodes_the_verification_url_with_token(tmp_path: Path) -> None:
    path = _write(tmp_path, render_certificate_pdf(_arguments()))
    dpi = 600
    to_px = dpi / 25.4
    _run(
        "pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile",
        "-x", str(round(QR_X * to_px)), "-y", str(round(QR_Y * to_px)),
        "-W", str(round(QR_SIZE * to_px)), "-H", str(round(QR_SIZE * to_px)),
        path, str(tmp_path / "qr"),
    )  # fmt: skip
    expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_QUIET_MODULES)
    expected.add_data(VERIFY_URL)
    expected.make(fit=True)
    matrix = expected.get_matrix()
    module_px = QR_SIZE * to_px / len(matrix)
    with Image.open(tmp_path / "qr.png") as image:
        grey = image.convert("L")

        def dark(row: int, column: int) -> bool:
            value = grey.getpixel((int((column + 0.5) * module_px), int((row + 0.5) * module_px)))
            return isinstance(value, int) and value < 128

        drawn = [[dark(row, column) for column in range(len(matrix))] for row in range(len(matrix))]
    assert drawn == matrix
    assert module_px / to_px >= 0.45  # mm per module: scannable by an ordinary phone


def test_same_inputs_give_the_same_bytes_and_cache_key() -> None:
    first = render_certificate_pdf(_arguments())
    assert render_certificate_pdf(_arguments()) == first
    assert cache_key(_arguments()) == cache_key(_arguments())
    assert cache_key(_arguments(learner_name="Anna Ivanovna")) != cache_key(_arguments())
    assert render_certificate_pdf(_arguments(issued_on=date(2025, 6, 2))) != first


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="locale"):
        render_certificate_pdf(_arguments(locale="de"))
    for key in LABEL_KEYS:
        with pytest.raises(ValueError, match=key):
            render_certificate_pdf(_arguments(labels={k: v for k, v in LABELS.items() if k != key}))
    with pytest.raises(UnsupportedCharactersError) as raised:
        render_certificate_pdf(_arguments(learner_name="李小龍"))
    assert raised.value.characters == sorted("李小龍")


def test_long_names_and_titles_still_fit_on_one_page(tmp_path: Path) -> None:
    name = "ნინო-მარიამ ბერიძე-ჯავახიშვილი-ციციშვილი-ანდრონიკაშვილი"
    title = "A very long course title " * 8
    pdf = render_certificate_pdf(_arguments(learner_name=name, course_title=title.strip(), locale="ka"))
    path = _write(tmp_path, pdf)
    assert "Pages:           1" in _run("pdfinfo", path)
    assert name in _run("pdftotext", "-enc", "UTF-8", path, "-").replace("\n", " ")
