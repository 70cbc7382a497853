-- check: model inputs lie in plausible ranges (sqft 1-20000, bedrooms 0-20, bathrooms 0-15,
-- built after 1700, age at sale not negative, ratios finite)
SELECT house_id, sqft, bedrooms, bathrooms, year_built, house_age, bed_bath_ratio
FROM features
WHERE sqft NOT BETWEEN 1 AND 20000
   OR bedrooms NOT BETWEEN 0 AND 20
   OR bathrooms NOT BETWEEN 0 AND 15
   OR year_built < 1700
   OR house_age < 0
   OR NOT isfinite(bed_bath_ratio)
   OR NOT isfinite(sqft_per_bedroom)
