"""serving/README.md's example request works against the model it says it assumes.

The README's curl body is sent to a model trained on Ames, the default source of
``hpp run``. Ridge stands in for XGBoost to keep the training short: the example depends on
the categories the Ames data gives the bundle, which every model kind shares.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from serving import ServiceSettings, create_app, load_model
from tests.serving.conftest import run_hpp

README = Path(__file__).parents[2] / "serving" / "README.md"
_CURL_BODY = re.compile(r"curl -s localhost:8000/predict .*?-d '(?P<body>\{.*?\})'", re.DOTALL)


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
