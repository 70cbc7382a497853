"""A bundle's online market values are checked whenever the bundle is read or verified.

The bundle here is written by hand (a stand-in ``model.onnx``, a ``bundle.json`` with one
categorical location input and an ``online_features.json``): ``verify_bundle`` and
``read_online_values`` read files and checksums, never the graph. Each damage keeps the
file's checksum in ``bundle.json`` up to date, as an edit made on purpose would, so only
the content check can catch it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pipelines import bundle as bundles
from pipelines.errors import BundleError

HPP = str(Path(sys.executable).with_name("hpp"))
FEATURES = ["market_loc_ppsf_12m", "market_ppsf_12m", "market_trend_12m"]
LOCATIONS = ["college_creek", "old_town"]
ONLINE_FILE = "online_features.json"

Online = dict[str, Any]


def online_values() -> Online:
    return {
        "as_of": "2010-07-02",
        "features": list(FEATURES),
        "locations": {"college_creek": [140.5, 119.2, 0.01], "old_town": [90.0, 119.2, 0.01]},
        "fallback": [119.2, 119.2, 0.01],
    }


def write_bundle(folder: Path, online: Online, *, spec_features: list[str] = FEATURES) -> Path:
    """A bundle folder whose ``online_features.json`` is ``online``, checksum up to date."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / bundles.MODEL_FILE).write_bytes(b"a stand-in for the ONNX graph")
    (folder / ONLINE_FILE).write_text(json.dumps(online, indent=2))
    metrics = bundles.MetricSet(rows=10, rmse_log=0.1, mae=1.0, mape=0.1, r2=0.9)
    described = bundles.Bundle(
        format_version=bundles.FORMAT_VERSION,
        name="house-price-market",
        version="20100703T000000Z-abcdef",
        created_at="2010-07-03T00:00:00+00:00",
        model=bundles.ModelSpec(kind="ridge", target="log_price", params={}),
        onnx=bundles.OnnxSpec(
            file=bundles.MODEL_FILE,
            sha256=bundles.sha256_file(folder / bundles.MODEL_FILE),
            size_bytes=(folder / bundles.MODEL_FILE).stat().st_size,
            opset={"": 17},
            inputs=["location", *spec_features],
            outputs=["price"],
            parity_rows=1,
            parity_max_relative_difference=0.0,
        ),
        feature_schema=bundles.FeatureSchema(
            inputs=[
                bundles.InputSpec("location", "string", "neighbourhood", categories=list(LOCATIONS))
            ],
            model_features=["location"],
            reference_year=2010,
            category_normalisation="trim, lowercase",
            graph_normalisation="trim, lowercase",
        ),
        interval=bundles.IntervalSpec(0.9, "split conformal", 0.2, 10, 0.9, None, None),
        metrics=bundles.MetricsSpec(cv=metrics, cv_rmse_log_folds=[0.1], holdout=None),
        training_data=bundles.TrainingData(
            "ames", 10, 8, 2, "latest", "0" * 64, "2006-01-01", "2010-07-01"
        ),
        libraries={},
        online=bundles.OnlineSpec(
            file=ONLINE_FILE,
            sha256=bundles.sha256_file(folder / ONLINE_FILE),
            as_of="2010-07-02",
            features=list(spec_features),
            fallback="the whole market's values",
        ),
    )
    bundles.write_bundle_json(folder, described)
    return folder


def _short_row(online: Online) -> None:
    online["locations"]["old_town"] = online["locations"]["old_town"][:-1]


def _long_fallback(online: Online) -> None:
    online["fallback"].append(1.0)


def _truncated_features(online: Online) -> None:
    online["features"] = online["features"][:-1]


def _reordered_features(online: Online) -> None:
    online["features"] = list(reversed(online["features"]))


def _other_as_of(online: Online) -> None:
    online["as_of"] = "2011-01-01"


def _unknown_location(online: Online) -> None:
    online["locations"]["atlantis"] = [1.0, 2.0, 3.0]


def _missing_location(online: Online) -> None:
    del online["locations"]["old_town"]


DAMAGES: list[tuple[str, Callable[[Online], None], str]] = [
    ("short_location_row", _short_row, "location 'old_town' has 2 values, expected 3"),
    ("long_fallback", _long_fallback, "fallback has 4 values, expected 3"),
    ("truncated_features", _truncated_features, "features are ['market_loc_ppsf_12m', 'mar"),
    ("reordered_features", _reordered_features, "but bundle.json's online.features are"),
    ("other_as_of", _other_as_of, "as_of is '2011-01-01', but bundle.json's online.as_of is"),
    ("unknown_location", _unknown_location, "location 'atlantis' is not one the model knows"),
    ("missing_location", _missing_location, "known location 'old_town' has no row"),
]


@pytest.mark.parametrize(("damage", "says"), [d[1:] for d in DAMAGES], ids=[d[0] for d in DAMAGES])
def test_damaged_online_values_fail_verification_in_one_line(
    tmp_path: Path, damage: Callable[[Online], None], says: str
) -> None:
    online = online_values()
    damage(online)
    folder = write_bundle(tmp_path / "bundle", online)

    for check in (
        lambda: bundles.verify_bundle(folder),
        lambda: bundles.read_online_values(folder, bundles.read_bundle(folder)),
    ):
        with pytest.raises(BundleError) as caught:
            check()
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith(f"{folder / ONLINE_FILE}: ")
        assert says in message
        assert "hpp run" in message


def test_value_out_of_float_range_fails_verification(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "bundle", online_values())
    path = folder / ONLINE_FILE
    path.write_text(path.read_text().replace("140.5", "1e999"))
    described = json.loads((folder / bundles.BUNDLE_FILE).read_text())
    described["online"]["sha256"] = bundles.sha256_file(path)
    (folder / bundles.BUNDLE_FILE).write_text(json.dumps(described))

    with pytest.raises(BundleError) as caught:
        bundles.verify_bundle(folder)
    assert str(caught.value) == (
        f"{path} is not a valid online feature file: Number out of range - at `$.locations[...][0]`"
    )


def test_sound_online_values_pass_and_are_returned(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "bundle", online_values())

    described = bundles.verify_bundle(folder)
    values = bundles.read_online_values(folder, described)

    assert values is not None
    assert msgspec.to_builtins(values) == online_values()


def test_hpp_verify_refuses_a_truncated_features_list(tmp_path: Path) -> None:
    online = online_values()
    _truncated_features(online)
    folder = write_bundle(tmp_path / "bundle", online)

    completed = subprocess.run(
        [HPP, "verify", str(folder)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 1, completed.stdout
    [line] = completed.stderr.strip().splitlines()
    assert line.startswith(f"error: {folder / ONLINE_FILE}: features are ")
