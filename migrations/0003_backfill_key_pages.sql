-- Pages for keys stored before key_pages existed (the same statement the Worker runs after adds and deletes).
INSERT INTO key_pages (provider, page, keys)
SELECT provider, page, json_group_array(json_array(id, key))
FROM (
  SELECT provider, id, key, (row_number() OVER (PARTITION BY provider ORDER BY id) - 1) / 1000 AS page
  FROM keys WHERE status != 'deleted' ORDER BY provider, id
)
GROUP BY provider, page;
