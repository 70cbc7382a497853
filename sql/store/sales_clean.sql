-- Cleaning rules of the teaching project, as SQL: categories normalised, missing numbers
-- filled with the median and missing categories with the most frequent value, and price
-- outliers flagged by the IQR rule. Parameters come from the `settings` table, which
-- `hpp build` writes from the pipeline config (configs/pipeline.yaml, `cleaning:`).

CREATE OR REPLACE VIEW sales_clean AS
WITH normalised AS (
    SELECT
        house_id, sale_date, price, sqft, bedrooms, bathrooms, year_built,
        normalise_category(location) AS location,
        normalise_category(condition) AS condition,
        latitude, longitude
    FROM sales
),
fill AS (
    -- quantile_disc returns a value that occurs in the data: no 2.5 bedrooms.
    SELECT
        quantile_disc(bedrooms, 0.5)   AS bedrooms,
        quantile_disc(bathrooms, 0.5)  AS bathrooms,
        quantile_disc(year_built, 0.5) AS year_built,
        quantile_cont(price, 0.25)     AS price_q1,
        quantile_cont(price, 0.75)     AS price_q3
    FROM normalised
),
-- Most frequent value, ties broken alphabetically so every build agrees.
location_mode AS (
    SELECT location FROM normalised WHERE location IS NOT NULL
    GROUP BY location ORDER BY count(*) DESC, location LIMIT 1
),
condition_mode AS (
    SELECT condition FROM normalised WHERE condition IS NOT NULL
    GROUP BY condition ORDER BY count(*) DESC, condition LIMIT 1
)
SELECT
    n.house_id,
    n.sale_date,
    n.price,
    n.sqft,
    coalesce(n.bedrooms, fill.bedrooms)                 AS bedrooms,
    coalesce(n.bathrooms, fill.bathrooms)               AS bathrooms,
    coalesce(n.year_built, fill.year_built)             AS year_built,
    coalesce(n.location, (SELECT location FROM location_mode))   AS location,
    coalesce(n.condition, (SELECT condition FROM condition_mode)) AS condition,
    n.latitude,
    n.longitude,
    (n.bedrooms IS NULL OR n.bathrooms IS NULL OR n.year_built IS NULL
        OR n.location IS NULL OR n.condition IS NULL)   AS was_imputed,
    (n.price < fill.price_q1 - settings.iqr_multiplier * (fill.price_q3 - fill.price_q1)
        OR n.price > fill.price_q3 + settings.iqr_multiplier * (fill.price_q3 - fill.price_q1)
        OR n.sqft > settings.max_sqft)                  AS is_outlier
FROM normalised AS n, fill, settings;

COMMENT ON VIEW sales_clean IS
    'Sales with normalised categories, imputed gaps and an outlier flag (IQR on price, '
    'settings.iqr_multiplier; living area above settings.max_sqft).';
COMMENT ON COLUMN sales_clean.location IS 'normalise_category(location); gaps: most frequent.';
COMMENT ON COLUMN sales_clean.condition IS
    'normalise_category(condition); gaps: most frequent.';
COMMENT ON COLUMN sales_clean.bedrooms IS 'Bedrooms; gaps filled with the median.';
COMMENT ON COLUMN sales_clean.bathrooms IS 'Bathrooms; gaps filled with the median.';
COMMENT ON COLUMN sales_clean.year_built IS 'Year built; gaps filled with the median.';
COMMENT ON COLUMN sales_clean.was_imputed IS 'True when any input of the row was filled in.';
COMMENT ON COLUMN sales_clean.is_outlier IS
    'Price outside the IQR fences, or living area above settings.max_sqft (Ames partial sales).';
