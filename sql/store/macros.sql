-- Helpers shared by the views; usable in your own queries too.

-- The one category rule of the project (featurestore.schema.normalise_category): trim
-- whitespace, Unicode spaces and zero-width characters (featurestore.schema.CATEGORY_SPACES,
-- the same set), then lowercase. "  Suburb " and "SUBURB" both become "suburb".
CREATE OR REPLACE MACRO category_spaces() AS
    '[\t\n\x0B\f\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200D}'
    || '\x{2028}\x{2029}\x{202F}\x{205F}\x{2060}\x{3000}\x{FEFF}]';

CREATE OR REPLACE MACRO normalise_category(value) AS
    lower(regexp_replace(
        value, '^' || category_spaces() || '+|' || category_spaces() || '+$', '', 'g'
    ));
