-- Identical searches (same market, text, result count, user and second)
-- are one search_log row with their number: a busy server answers the same
-- popular search many times a second, and a row for each made storing the
-- log slower than answering the searches (events.c).
ALTER TABLE search_log ADD COLUMN searches BIGINT NOT NULL DEFAULT 1;
