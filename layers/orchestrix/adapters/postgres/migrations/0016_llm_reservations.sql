-- A model call holds its worst-case cost against the tenant's day while it runs
-- (services/model_allowance.py): checking the day's usage before the call and adding the
-- reply's afterwards let concurrent calls, or one larger than its estimate, overshoot the
-- daily limits.
ALTER TABLE llm_usage
    ADD COLUMN reserved_tokens bigint         NOT NULL DEFAULT 0,
    ADD COLUMN reserved_usd    numeric(12, 6) NOT NULL DEFAULT 0;
