-- Helpers shared by the views; usable in your own queries too.

-- The one category rule of the project (featurestore.schema.normalise_category):
-- trim ASCII whitespace, then lowercase. "  Suburb " and "SUBURB" both become "suburb".
CREATE OR REPLACE MACRO normalise_category(value) AS
    lower(regexp_replace(value, '^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$', '', 'g'));
