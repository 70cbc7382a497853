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
COMMENT ON COLUMN features.house_id IS 'Stable id of the sale (sales.house_id).';
COMMENT ON COLUMN features.sale_date IS 'Month of sale; NULL when the source has no dates.';
COMMENT ON COLUMN features.sqft IS 'Model input: above-grade living area, square feet.';
COMMENT ON COLUMN features.bedrooms IS 'Model input: bedrooms (median-filled when missing).';
COMMENT ON COLUMN features.bathrooms IS
    'Model input: full + 0.5 x half bathrooms (median-filled when missing).';
COMMENT ON COLUMN features.year_built IS
    'Raw input; enters the model as house_age (median-filled when missing).';
COMMENT ON COLUMN features.location IS 'Model input, one-hot: normalised location.';
COMMENT ON COLUMN features.condition IS 'Model input, one-hot: normalised overall condition.';
COMMENT ON COLUMN features.is_outlier IS
    'sales_clean.is_outlier; used only to leave rows out of fitting when configured.';
