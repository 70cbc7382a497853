-- check: no sale is dated after today
SELECT house_id, sale_date
FROM sales
WHERE sale_date > current_date
