"""LogQL (a subset): parsing, the query model the log store answers, metric evaluation."""
