-- Point-in-time market features: for each sale, what the market looked like *before* it.
--
-- Every aggregate reads only sales dated strictly before the sale's own date (the window
-- ends one day before it), so neither the sale's own price nor a same-day or later sale
-- can reach its features. Ames dates are months, so "before" means earlier months.
-- Sales without a date get no market features (NULL): with no time order there is no
-- "before", and any other rule would read prices the sale could not have known.
-- tests/featurestore/test_market.py checks all of this by hand and by shuffling prices.
--
-- `market_probes` (empty unless training fills it inside a transaction it rolls back) adds
-- priceless rows: "a sale at this location on this date". That is how the bundle's online
-- values are computed, by this very view, so serving sees what training saw.
-- `market_hidden` (empty unless cross-validation fills it the same way) lists sales whose
-- prices the windows must not read: a fold's validation sales, so that the features of the
-- rows a fold is fitted on never carry a price it is scored on.

CREATE OR REPLACE VIEW market_features AS
WITH priced AS (
    SELECT
        house_id,
        sale_date,
        location,
        CASE WHEN house_id IN (SELECT house_id FROM market_hidden) THEN NULL
             ELSE price / sqft END AS price_per_sqft
    FROM sales_clean
    UNION ALL
    SELECT house_id, sale_date, location, NULL FROM market_probes
),
windows AS (
    SELECT
        house_id,
        sale_date,
        location,
        median(price_per_sqft) OVER location_12m AS loc_ppsf_median_12m,
        count(price_per_sqft) OVER location_12m  AS loc_sales_12m,
        median(price_per_sqft) OVER location_36m AS loc_ppsf_median_36m,
        count(price_per_sqft) OVER location_36m  AS loc_sales_36m,
        median(price_per_sqft) OVER market_12m   AS all_ppsf_median_12m,
        count(price_per_sqft) OVER market_12m    AS all_sales_12m,
        median(price_per_sqft) OVER market_prior_12m AS all_ppsf_median_prior_12m
    FROM priced
    WHERE sale_date IS NOT NULL
    WINDOW
        location_12m AS (PARTITION BY location ORDER BY sale_date
            RANGE BETWEEN INTERVAL 12 MONTH PRECEDING AND INTERVAL 1 DAY PRECEDING),
        location_36m AS (PARTITION BY location ORDER BY sale_date
            RANGE BETWEEN INTERVAL 36 MONTH PRECEDING AND INTERVAL 1 DAY PRECEDING),
        market_12m AS (ORDER BY sale_date
            RANGE BETWEEN INTERVAL 12 MONTH PRECEDING AND INTERVAL 1 DAY PRECEDING),
        market_prior_12m AS (ORDER BY sale_date
            RANGE BETWEEN INTERVAL 24 MONTH PRECEDING AND INTERVAL '12 months 1 day' PRECEDING)
)
SELECT
    p.house_id,
    p.sale_date,
    p.location,
    w.loc_ppsf_median_12m,
    coalesce(w.loc_sales_12m, 0)                          AS loc_sales_12m,
    w.loc_ppsf_median_36m,
    coalesce(w.loc_sales_36m, 0)                          AS loc_sales_36m,
    w.all_ppsf_median_12m,
    coalesce(w.all_sales_12m, 0)                          AS all_sales_12m,
    w.all_ppsf_median_12m / w.all_ppsf_median_prior_12m - 1 AS all_ppsf_trend_12m,
    -- Model inputs: a location with no sale in the window takes the whole market's value,
    -- the same fallback the service uses for a location it does not know; no trend
    -- measured yet (the first two years) reads as no change.
    coalesce(w.loc_ppsf_median_12m, w.all_ppsf_median_12m) AS market_loc_ppsf_12m,
    coalesce(w.loc_ppsf_median_36m, w.loc_ppsf_median_12m, w.all_ppsf_median_12m)
                                                          AS market_loc_ppsf_36m,
    coalesce(w.loc_sales_12m, 0)                          AS market_loc_sales_12m,
    w.all_ppsf_median_12m                                 AS market_ppsf_12m,
    coalesce(w.all_ppsf_median_12m / w.all_ppsf_median_prior_12m - 1, 0)
                                                          AS market_trend_12m
FROM priced AS p
LEFT JOIN windows AS w USING (house_id);

COMMENT ON VIEW market_features IS
    'Point-in-time market state per sale, from earlier sales only (strictly before the '
    'sale date); NULL when there is no earlier sale in the window or the sale has no date.';
COMMENT ON COLUMN market_features.loc_ppsf_median_12m IS
    'Median price per sqft of the location''s sales in the 12 months before the sale.';
COMMENT ON COLUMN market_features.loc_sales_12m IS
    'Number of the location''s sales in the 12 months before the sale.';
COMMENT ON COLUMN market_features.loc_ppsf_median_36m IS
    'Median price per sqft of the location''s sales in the 36 months before the sale.';
COMMENT ON COLUMN market_features.loc_sales_36m IS
    'Number of the location''s sales in the 36 months before the sale.';
COMMENT ON COLUMN market_features.all_ppsf_median_12m IS
    'Median price per sqft of all sales in the 12 months before the sale.';
COMMENT ON COLUMN market_features.all_sales_12m IS
    'Number of sales in the 12 months before the sale.';
COMMENT ON COLUMN market_features.all_ppsf_trend_12m IS
    'Market trend: all_ppsf_median_12m over the median of the 12 months before those, minus 1.';
COMMENT ON COLUMN market_features.market_loc_ppsf_12m IS
    'Model input: loc_ppsf_median_12m, else the whole market''s (all_ppsf_median_12m).';
COMMENT ON COLUMN market_features.market_loc_ppsf_36m IS
    'Model input: loc_ppsf_median_36m, else the 12-month location value, else the market''s.';
COMMENT ON COLUMN market_features.market_loc_sales_12m IS
    'Model input: loc_sales_12m (0 when none).';
COMMENT ON COLUMN market_features.market_ppsf_12m IS
    'Model input: all_ppsf_median_12m; NULL only in the first month of data (not trained on).';
COMMENT ON COLUMN market_features.market_trend_12m IS
    'Model input: all_ppsf_trend_12m, 0 while there is no earlier year to compare with.';
COMMENT ON COLUMN market_features.house_id IS 'The sale these market values describe.';
COMMENT ON COLUMN market_features.sale_date IS 'Its sale date: every window ends the day before.';
COMMENT ON COLUMN market_features.location IS 'Its normalised location (the window partition).';
