-- check: house_id identifies one sale
SELECT house_id, count(*) AS sales
FROM sales
GROUP BY house_id
HAVING count(*) > 1
