-- check: categories belong to the known vocabulary (checks.known_categories in the config;
-- a column with no list configured is not checked)
SELECT house_id, 'location' AS column_name, location AS value
FROM features
WHERE EXISTS (SELECT 1 FROM known_categories WHERE column_name = 'location')
  AND location NOT IN (SELECT value FROM known_categories WHERE column_name = 'location')
UNION ALL
SELECT house_id, 'condition', condition
FROM features
WHERE EXISTS (SELECT 1 FROM known_categories WHERE column_name = 'condition')
  AND condition NOT IN (SELECT value FROM known_categories WHERE column_name = 'condition')
