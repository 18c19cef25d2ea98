-- Pages now carry each key's weight, tier and group ([id, key, weight, tier, group]): rebuilt once
-- here, with the same statement the Worker runs after adds, deletes and such edits.
DELETE FROM key_pages;--> statement-breakpoint
INSERT INTO key_pages (provider, page, keys)
SELECT provider, page, json_group_array(json_array(id, key, weight, tier, key_group))
FROM (
  SELECT provider, id, key, weight, tier, key_group, (row_number() OVER (PARTITION BY provider ORDER BY id) - 1) / 1000 AS page
  FROM keys WHERE status != 'deleted' ORDER BY provider, id
)
GROUP BY provider, page;
