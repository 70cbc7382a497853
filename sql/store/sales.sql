-- The lake's Parquet files as views. `${lake_dir}` is the lake folder, filled in
-- when `hpp build` applies this file.

CREATE OR REPLACE VIEW sales AS
SELECT * FROM read_parquet('${lake_dir}/sales.parquet');

COMMENT ON VIEW sales IS
    'Every accepted raw sale, typed, as ingested (canonical columns first, then any '
    'extra columns of the source, e.g. all Ames attributes).';
COMMENT ON COLUMN sales.house_id IS 'Stable id: the source''s own id, else the row number.';
COMMENT ON COLUMN sales.sale_date IS 'Month of sale (first day); NULL when the source has none.';
COMMENT ON COLUMN sales.price IS 'Sale price in dollars: the target, never a model input.';
COMMENT ON COLUMN sales.sqft IS 'Above-grade living area, square feet.';
COMMENT ON COLUMN sales.bedrooms IS 'Bedrooms above grade.';
COMMENT ON COLUMN sales.bathrooms IS 'Full bathrooms plus half a bathroom per half bath.';
COMMENT ON COLUMN sales.year_built IS 'Year of original construction.';
COMMENT ON COLUMN sales.location IS 'Neighbourhood or area, as written in the source.';
COMMENT ON COLUMN sales.condition IS 'Overall condition, as written in the source.';

CREATE OR REPLACE VIEW rejects AS
SELECT * FROM read_parquet('${lake_dir}/rejects.parquet');

COMMENT ON VIEW rejects IS
    'Raw rows refused by the last ingest, with the source row number and every rule broken.';
COMMENT ON COLUMN rejects.reject_reason IS 'Every validation rule the row broke, "; "-separated.';
