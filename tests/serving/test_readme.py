"""serving/README.md's example requests work against the models they say they assume.

The README's first curl body is sent to a model trained on Ames, the default source of
``hpp run``. Ridge stands in for XGBoost to keep the training short: the example depends on
the categories the Ames data gives the bundle, which every model kind shares. The market
example is sent to a bundle trained with ``configs/market.yaml``; its prices vary from run
to run, its warnings do not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from serving import ServiceSettings, create_app, load_model
from tests.serving.conftest import RunningService, run_hpp

README = Path(__file__).parents[2] / "serving" / "README.md"
_CURL_BODY = re.compile(r"curl -s localhost:8000/predict .*?-d '(?P<body>\{.*?\})'", re.DOTALL)
_MARKET_EXAMPLE = re.compile(
    r"curl -s localhost:8000/predict/batch .*?-d '(?P<body>\{.*?\})'\n```\s*"
    r"```json\n(?P<answer>.*?)```",
    re.DOTALL,
)
_MARKET_WARNING = re.compile(r"\n> (?P<quote>location 'atlantis'.*?) …\n", re.DOTALL)
_MARKET_COMMANDS = (
    "uv run hpp run --config configs/market.yaml",
    "uv run hpp serve --model models/house-price-market",
)


def readme_request() -> dict[str, object]:
    match = _CURL_BODY.search(README.read_text())
    assert match, "serving/README.md has no `curl ... /predict ... -d '{...}'` example"
    return dict(json.loads(match.group("body")))


@pytest.fixture(scope="module")
def ames_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ames-project")
    for step in (["ingest", "--source", "ames"], ["build"], ["train", "--model", "ridge"]):
        run_hpp(step, cwd=folder, check=True)
    return (folder / "models" / "house-price" / "latest").resolve()


@pytest.mark.slow
def test_readme_example_is_priced_by_an_ames_model_without_warnings(ames_bundle: Path) -> None:
    from litestar.testing import TestClient

    app = create_app(load_model(ames_bundle), ServiceSettings())
    with TestClient(app) as client:
        response = client.post("/predict", json=readme_request())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["warnings"] == []
    assert body["interval"]["lower"] < body["predicted_price"] < body["interval"]["upper"]


@pytest.mark.slow
def test_readme_market_example_warns_as_shown(market_service: RunningService) -> None:
    text = README.read_text()
    assert all(command in text for command in _MARKET_COMMANDS)
    match = _MARKET_EXAMPLE.search(text)
    assert match, "serving/README.md has no `curl ... /predict/batch` example and answer"
    shown = json.loads(match.group("answer"))
    quoted = _MARKET_WARNING.search(text)
    assert quoted, "serving/README.md does not quote the unknown location's warning in full"

    response = httpx.post(
        f"{market_service.url}/predict/batch", json=json.loads(match.group("body"))
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"]["name"] == shown["model"]["name"]
    [known, unknown] = [item["warnings"] for item in answer["predictions"]]
    [known_shown, [warning_shown]] = [item["warnings"] for item in shown["predictions"]]
    assert known == known_shown == []
    [warning] = unknown
    assert (warning["field"], warning["code"]) == (warning_shown["field"], warning_shown["code"])
    # The README shortens the message (and its list of known values) with " …".
    assert warning["message"].startswith(warning_shown["message"].removesuffix(" …"))
    assert warning["message"].startswith(quoted.group("quote").replace("\n> ", " "))
