"""``--chart FILE.png|svg`` of ``annoplan fit`` and ``annoplan plan``: the files are opened and checked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from annoplan.api.cli import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PLAN = {**json.loads((EXAMPLES / "plan.json").read_text()), "draws": 200, "batch_sizes": [1000, 5000]}
SVG = "{http://www.w3.org/2000/svg}"


def svg_text(path: Path) -> str:
    """Every text of an SVG chart (matplotlib writes each label as a comment beside its glyphs)."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return path.read_text(encoding="utf-8")


def test_plan_png_has_three_panels_drawn(tmp_path: Path) -> None:
    request = tmp_path / "plan.json"
    request.write_text(json.dumps(PLAN), encoding="utf-8")
    chart = tmp_path / "plan.png"
    result = runner.invoke(app, ["plan", str(request), "--chart", str(chart)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["strategies"]  # the response is still printed
    with Image.open(chart) as image:
        assert image.format == "PNG"
        assert image.size == (1800, 500)  # three panels of 6 x 5 inches at 100 dpi
        pixels = np.asarray(image.convert("L"), dtype=float)
    # drawn, not blank: each third holds dark lines and text
    for third in np.array_split(pixels, 3, axis=1):
        assert (third < 100).mean() > 0.005
    assert f"wrote {chart}" in result.stderr


def test_plan_svg_names_its_panels_and_strategies(tmp_path: Path) -> None:
    request = tmp_path / "plan.json"
    request.write_text(
        json.dumps({**PLAN, "goal": {"type": "model_metric", "target": 0.95}}), encoding="utf-8"
    )
    chart = tmp_path / "plan.svg"
    result = runner.invoke(app, ["plan", str(request), "--chart", str(chart)])
    assert result.exit_code == 0, result.stderr
    text = svg_text(chart)
    for label in (
        "Learning curve",
        "P10-P90",
        "pilot rounds",
        "target 0.95",
        "Cost by strategy",
    ):
        assert label in text, label
    plan = json.loads(result.stdout)
    assert all(s["strategy"] in text for s in plan["strategies"])
    if plan["recommendation"]["stop_at_labels"] is not None:
        assert f"stop at {plan['recommendation']['stop_at_labels']:,} labels" in text
    assert ("Threshold trade-off" in text) == bool(plan["thresholds"])


def test_fit_svg_shows_the_band_the_pilot_and_the_targets(tmp_path: Path) -> None:
    chart = tmp_path / "fit.svg"
    args = ["fit", str(EXAMPLES / "pilot_rounds.csv"), "--target", "0.85", "--chart", str(chart)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    text = svg_text(chart)
    for label in (
        "Learning curve",
        "P10-P90",
        "P50 forecast",
        "pilot rounds",
        "target 0.85",
        "labels (log scale)",
    ):
        assert label in text, label
    assert chart.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("name", "message"), [("chart.pdf", "must end in .png or .svg"), ("no/c.png", "does not exist")]
)
def test_a_bad_chart_path_exits_2_before_computing(tmp_path: Path, name: str, message: str) -> None:
    chart = tmp_path / name
    result = runner.invoke(app, ["fit", str(EXAMPLES / "pilot_rounds.csv"), "--chart", str(chart)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("annoplan: --chart:") and message in result.stderr
    assert not chart.exists()
