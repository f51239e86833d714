"""The render log (issue 16, finding 10): Quarto's stderr, or pandoc's and typst's warnings, always
reach ``_build/logs/render.log``, and a render prints ``render: N warnings (see ...)``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from analysis.render import renderlog
from analysis.render.__main__ import main
from test_render_engine import make_project

QUARTO_WARNINGS = ("WARNING (/opt/quarto/share/filters/main.lua:7892) Unable to parse table from raw html block: skipping.\n"
                   "WARN: Could not resolve the font\n  continued detail of the warning\n")


def fake_quarto(bindir: Path, body: str) -> None:
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / "quarto"
    script.write_text("#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 1.10.18; exit 0; fi\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_warning_count_reads_quarto_pandoc_and_typst_prefixes():
    assert renderlog.count_warnings(QUARTO_WARNINGS) == 2
    assert renderlog.count_warnings("[WARNING] Citeproc: citation x not found\nwarning: unknown font\n") == 2
    assert renderlog.count_warnings("Output created: report.html\nrendering warnings-free\n") == 0
    assert renderlog.summary(1) == "render: 1 warning (see _build/logs/render.log)"


def test_successful_quarto_render_keeps_its_warnings(tmp_path, monkeypatch, capsys):
    root = make_project(tmp_path / "p")
    fake_quarto(tmp_path / "bin", 'out="$3"; mkdir -p "$out/report"\n'
                'printf "<p>x</p>" > "$out/report/report.html"\nprintf "%%PDF-1.7 fake" > "$out/report/report.pdf"\n'
                f"printf '{QUARTO_WARNINGS}' >&2\nexit 0\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert main(["--engine", "quarto", "--root", str(root), "--out", str(tmp_path / "out")]) == 0
    log = (root / "_build" / "logs" / "render.log").read_text()
    assert "Unable to parse table from raw html block" in log and "continued detail" in log
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "render: 2 warnings (see _build/logs/render.log)"


def test_failed_quarto_render_writes_the_whole_stderr_to_the_log(tmp_path, monkeypatch, capsys):
    root = make_project(tmp_path / "p")
    fake_quarto(tmp_path / "bin", "echo 'WARNING: first' >&2\necho 'ERROR: boom' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert main(["--engine", "quarto", "--root", str(root), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1  # still one error line
    assert "ERROR: boom" in (root / "_build" / "logs" / "render.log").read_text()
    assert "render: 1 warning " in captured.out


def test_lite_render_logs_pandoc_and_typst_warnings(tmp_path, capsys):
    root = make_project(tmp_path / "p")
    qmd = root / "report" / "report.qmd"
    # a link reference defined twice: pandoc warns in both passes; an unknown font: typst warns
    qmd.write_text(qmd.read_text() + "\nA [twice-defined][dupref] link.\n\n[dupref]: https://example.org/a\n"
                   "[dupref]: https://example.org/b\n\n```{=typst}\n#text(font: \"NoSuchFontFamily\")[x]\n```\n")
    assert main(["--engine", "lite", "--root", str(root), "--out", str(tmp_path / "out")]) == 0
    log = (root / "_build" / "logs" / "render.log").read_text()
    assert log.count("dupref") >= 2 and "== pandoc html" in log and "== pandoc typst" in log
    assert "warning: unknown font family: nosuchfontfamily" in log
    n = renderlog.count_warnings(log)
    assert n >= 3 and capsys.readouterr().out.strip().splitlines()[-1] == renderlog.summary(n)


def test_clean_lite_render_reports_no_warnings(tmp_path, capsys):
    root = make_project(tmp_path / "p")
    assert main(["--engine", "lite", "--root", str(root), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "render: 0 warnings (see _build/logs/render.log)"
