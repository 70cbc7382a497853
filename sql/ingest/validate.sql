-- Type every raw row and list the rules it breaks.
--
-- Input: a relation named `raw_input` holding the canonical and optional columns
-- (as text or typed) and, for mapped sources, extra columns that pass through.
-- Output: the temp table `validated`; `reject_reason` is NULL for a good row and
-- otherwise every broken rule, separated by "; ".
CREATE OR REPLACE TEMP TABLE validated AS
WITH numbered AS (
    SELECT row_number() OVER () AS source_row, * FROM raw_input
),
typed AS (
    SELECT
        source_row,
        coalesce(nullif(trim(CAST(house_id AS VARCHAR)), ''), CAST(source_row AS VARCHAR))
                                                  AS house_id,
        TRY_CAST(sale_date AS DATE)               AS sale_date,
        TRY_CAST(price AS DOUBLE)                 AS price,
        TRY_CAST(sqft AS DOUBLE)                  AS sqft,
        TRY_CAST(bedrooms AS DOUBLE)              AS bedrooms,
        TRY_CAST(bathrooms AS DOUBLE)             AS bathrooms,
        TRY_CAST(year_built AS DOUBLE)            AS year_built,
        CAST(location AS VARCHAR)                 AS location,
        CAST(condition AS VARCHAR)                AS condition,
        TRY_CAST(latitude AS DOUBLE)              AS latitude,
        TRY_CAST(longitude AS DOUBLE)             AS longitude,
        CAST(sale_date AS VARCHAR)                AS sale_date_text,
        CAST(price AS VARCHAR)                    AS price_text,
        CAST(sqft AS VARCHAR)                     AS sqft_text,
        CAST(bedrooms AS VARCHAR)                 AS bedrooms_text,
        CAST(bathrooms AS VARCHAR)                AS bathrooms_text,
        CAST(year_built AS VARCHAR)               AS year_built_text,
        CAST(latitude AS VARCHAR)                 AS latitude_text,
        CAST(longitude AS VARCHAR)                AS longitude_text,
        * EXCLUDE (
            source_row, house_id, sale_date, price, sqft, bedrooms, bathrooms,
            year_built, location, condition, latitude, longitude
        )
    FROM numbered
),
-- A grouped count, not a window over every row: a third of the validation time otherwise
-- (bench/README.md).
duplicated AS (
    SELECT house_id FROM typed GROUP BY house_id HAVING count(*) > 1
),
checked AS (
    SELECT
        *,
        nullif(concat_ws('; ',
            CASE WHEN price_text IS NULL THEN 'price is missing' END,
            CASE WHEN price_text IS NOT NULL AND price IS NULL
                 THEN 'price is not a number: ' || price_text END,
            CASE WHEN price <= 0 THEN 'price must be positive' END,
            CASE WHEN sqft_text IS NULL THEN 'sqft is missing' END,
            CASE WHEN sqft_text IS NOT NULL AND sqft IS NULL
                 THEN 'sqft is not a number: ' || sqft_text END,
            CASE WHEN sqft <= 0 THEN 'sqft must be positive' END,
            CASE WHEN bedrooms_text IS NOT NULL AND bedrooms IS NULL
                 THEN 'bedrooms is not a number: ' || bedrooms_text END,
            CASE WHEN bedrooms < 0 THEN 'bedrooms must not be negative' END,
            CASE WHEN bathrooms_text IS NOT NULL AND bathrooms IS NULL
                 THEN 'bathrooms is not a number: ' || bathrooms_text END,
            CASE WHEN bathrooms < 0 THEN 'bathrooms must not be negative' END,
            CASE WHEN year_built_text IS NOT NULL AND year_built IS NULL
                 THEN 'year_built is not a number: ' || year_built_text END,
            -- isfinite: DuckDB orders NaN above every number, so "nan" would read as future.
            CASE WHEN isfinite(year_built) AND year_built > year(current_date)
                 THEN 'year_built is in the future' END,
            CASE WHEN isfinite(year_built) AND year_built > year(sale_date)
                 THEN 'year_built is after the sale' END,
            CASE WHEN sale_date_text IS NOT NULL AND sale_date IS NULL
                 THEN 'sale_date is not a date: ' || sale_date_text END,
            CASE WHEN sale_date > current_date THEN 'sale_date is in the future' END,
            CASE WHEN latitude_text IS NOT NULL AND latitude IS NULL
                 THEN 'latitude is not a number: ' || latitude_text END,
            CASE WHEN longitude_text IS NOT NULL AND longitude IS NULL
                 THEN 'longitude is not a number: ' || longitude_text END,
            -- Blank after the category rule's trimming (sql/store/macros.sql, loaded first).
            CASE WHEN normalise_category(location) = '' THEN 'location is empty' END,
            CASE WHEN normalise_category(condition) = '' THEN 'condition is empty' END,
            -- DuckDB reads "nan", "inf" and "1e400" as numbers; none is a usable value.
            CASE WHEN NOT isfinite(price) THEN 'price is not a finite number' END,
            CASE WHEN NOT isfinite(sqft) THEN 'sqft is not a finite number' END,
            CASE WHEN NOT isfinite(bedrooms) THEN 'bedrooms is not a finite number' END,
            CASE WHEN NOT isfinite(bathrooms) THEN 'bathrooms is not a finite number' END,
            CASE WHEN NOT isfinite(year_built) THEN 'year_built is not a finite number' END,
            CASE WHEN NOT isfinite(latitude) OR NOT isfinite(longitude)
                 THEN 'latitude/longitude is not a finite number' END,
            CASE WHEN house_id IN (SELECT house_id FROM duplicated)
                 THEN 'house_id is not unique: ' || house_id END
        ), '') AS reject_reason
    FROM typed
)
SELECT * FROM checked;
