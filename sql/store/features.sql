-- Model inputs, one row per sale. Nothing here is computed from `price`: the target is
-- carried along for training only (tests/featurestore/test_leakage.py enforces this).
-- The ONNX graph recomputes the derived columns from the six raw inputs with the same
-- formulas (pipelines/export.py); tests check the two agree.

CREATE OR REPLACE VIEW features AS
SELECT
    house_id,
    sale_date,
    coalesce(year(sale_date), settings.reference_year)  AS as_of_year,
    sqft,
    bedrooms,
    bathrooms,
    year_built,
    location,
    condition,
    coalesce(year(sale_date), settings.reference_year) - year_built AS house_age,
    bedrooms / greatest(bathrooms, 0.5)                 AS bed_bath_ratio,
    sqft / greatest(bedrooms, 1)                        AS sqft_per_bedroom,
    is_outlier,
    price
FROM sales_clean, settings;

COMMENT ON VIEW features IS
    'Model inputs per sale, plus the target `price` (training only) and `is_outlier`.';
COMMENT ON COLUMN features.as_of_year IS
    'Year of sale; settings.reference_year when the source has no sale dates.';
COMMENT ON COLUMN features.house_age IS
    'Age at sale in years (as_of_year - year_built): never measured from today.';
COMMENT ON COLUMN features.bed_bath_ratio IS
    'Bedrooms per bathroom; bathrooms floored at 0.5 so a house with none stays finite.';
COMMENT ON COLUMN features.sqft_per_bedroom IS
    'Living area per bedroom; bedrooms floored at 1 (studios).';
COMMENT ON COLUMN features.price IS 'Target only. No feature is derived from it.';
