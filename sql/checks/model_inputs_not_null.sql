-- check: every model input of every sale is present after cleaning
SELECT house_id, sqft, bedrooms, bathrooms, year_built, location, condition, house_age
FROM features
WHERE sqft IS NULL OR bedrooms IS NULL OR bathrooms IS NULL OR year_built IS NULL
   OR location IS NULL OR condition IS NULL OR house_age IS NULL
