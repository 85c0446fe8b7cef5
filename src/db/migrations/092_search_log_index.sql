-- search_log (results, query) has no reader: zero-result and top searches
-- come from analytics_search_daily (analytics/dashboard.c), and nothing
-- looks rows up by result count. Every logged search paid for its B-tree.
DROP INDEX IF EXISTS search_log_query;
