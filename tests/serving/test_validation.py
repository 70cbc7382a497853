"""Property-based tests of request validation: valid houses price, invalid ones are 422.

The rules (serving.schemas.FIELD_RULES) are restated here independently as hypothesis
strategies; the tests check the decoder, the predictor and the live service agree.
"""

from __future__ import annotations

import json
import math
import time
import unicodedata
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving.body import problem_from_msgspec
from serving.loading import load_model
from serving.predictor import InputRejected, Predictor
from serving.schemas import build_request_types
from tests.serving.conftest import RunningService

THIS_YEAR = time.localtime().tm_year
KNOWN_LOCATIONS = ["downtown", "mountain", "rural", "suburb", "urban", "waterfront"]

whitespace = st.sampled_from(["", " ", "  ", "\t", "\n", " \t "])
# Anything that shows nothing: Unicode spaces and invisible format characters.
blank = st.text(
    alphabet=st.sampled_from(" \t\n\u00a0\u2002\u2003\u2009\u202f\u3000\u200b\u2060\ufeff"),
    min_size=1,
    max_size=6,
)
known_spelling = st.builds(
    lambda value, cases, left, right: (
        left + "".join(c.upper() if up else c for c, up in zip(value, cases, strict=False)) + right
    ),
    st.sampled_from(KNOWN_LOCATIONS),
    st.lists(st.booleans(), min_size=10, max_size=10),
    whitespace,
    whitespace,
)
valid_house = st.fixed_dictionaries(
    {
        "sqft": st.floats(min_value=1.0, max_value=20_000, allow_nan=False),
        "bedrooms": st.integers(min_value=0, max_value=20),
        "bathrooms": st.integers(min_value=0, max_value=30).map(lambda n: n / 2),
        "year_built": st.integers(min_value=1700, max_value=THIS_YEAR),
        "location": known_spelling,
        "condition": st.sampled_from(["good", "Fair", " EXCELLENT ", "poor"]),
    }
)
invalid_values: dict[str, st.SearchStrategy[Any]] = {
    "sqft": st.one_of(
        st.floats(max_value=1, exclude_max=True, allow_nan=False, allow_infinity=False),
        st.floats(min_value=20_000, exclude_min=True, allow_nan=False, allow_infinity=False),
        st.text(max_size=5),
        st.none(),
    ),
    "bedrooms": st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=21),
        st.floats(0, 20).filter(lambda x: not float(x).is_integer()),
    ),
    "bathrooms": st.one_of(
        st.floats(0, 15).filter(lambda x: not float(x * 2).is_integer()),
        st.integers(max_value=-1),
        st.integers(min_value=16),
        st.booleans(),
    ),
    "year_built": st.one_of(
        st.integers(min_value=THIS_YEAR + 1, max_value=9999),
        st.integers(max_value=1699),
        st.floats(1700, THIS_YEAR).filter(lambda x: not float(x).is_integer()),
    ),
    "location": st.one_of(st.just(""), blank, st.text(min_size=101, max_size=120), st.integers()),
    "condition": st.one_of(blank, st.none(), st.lists(st.text(max_size=3), max_size=2)),
}
broken_house = st.sampled_from(sorted(invalid_values)).flatmap(
    lambda field: st.tuples(
        st.just(field),
        valid_house.flatmap(
            lambda house: invalid_values[field].map(lambda value: house | {field: value})
        ),
    )
)


@pytest.fixture(scope="module")
def predictor(bundle_dir: Path) -> Predictor:
    return Predictor(load_model(bundle_dir))


@pytest.fixture(scope="module")
def decoder(bundle_dir: Path) -> msgspec.json.Decoder[Any]:
    types = build_request_types(load_model(bundle_dir).bundle.feature_schema, max_batch=10)
    return msgspec.json.Decoder(types.house)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(house=valid_house)
def test_valid_house_is_priced_without_category_warnings(
    house: dict[str, Any], decoder: msgspec.json.Decoder[Any], predictor: Predictor
) -> None:
    decoded = decoder.decode(json.dumps(house))
    [item] = predictor.predict([decoded]).items
    assert math.isfinite(item.predicted_price) and item.predicted_price > 0
    assert item.interval.lower <= item.predicted_price <= item.interval.upper
    assert [w for w in item.warnings if w.code == "unknown_category"] == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=broken_house)
def test_broken_house_is_refused_naming_the_field(
    case: tuple[str, dict[str, Any]], decoder: msgspec.json.Decoder[Any], predictor: Predictor
) -> None:
    field, house = case
    try:
        predictor.predict([decoder.decode(json.dumps(house))])
    except msgspec.ValidationError as err:
        problem = problem_from_msgspec(err)
    except InputRejected as err:
        [problem] = err.problems
    else:
        pytest.fail(f"{field}={house[field]!r} was accepted")
    assert problem.field == field
    assert problem.location == f"$.{field}"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    house=st.one_of(valid_house, broken_house.map(lambda case: case[1])),
    noise=st.dictionaries(
        st.sampled_from(["sqft", "extra", "location"]), st.integers(), max_size=1
    ),
)
def test_service_answers_200_or_422_never_5xx(
    service: RunningService, house: dict[str, Any], noise: dict[str, Any]
) -> None:
    body = house | noise
    response = httpx.post(f"{service.url}/predict", json=body, timeout=10)
    assert response.status_code in (200, 422), response.text
    valid = "extra" not in body and _valid_by_rules(body)
    assert (response.status_code == 200) == valid, (body, response.text)


def _valid_by_rules(house: dict[str, Any]) -> bool:
    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def category(value: Any) -> bool:
        shown = isinstance(value, str) and any(
            not char.isspace() and unicodedata.category(char) != "Cf" for char in value
        )
        return shown and len(value) <= 100

    sqft, beds, baths, year = (house[k] for k in ("sqft", "bedrooms", "bathrooms", "year_built"))
    return (
        number(sqft)
        and 1 <= sqft <= 20_000
        and number(beds)
        and 0 <= beds <= 20
        and float(beds).is_integer()
        and number(baths)
        and 0 <= baths <= 15
        and float(baths * 2).is_integer()
        and number(year)
        and 1700 <= year <= THIS_YEAR
        and float(year).is_integer()
        and category(house["location"])
        and category(house["condition"])
    )
