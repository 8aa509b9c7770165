-- Anomaly rules: a rule's detector settings, and one learnt model per (rule, series).
--
-- A model is a few hundred floats packed into `state` (see domain/anomaly/model.py); the
-- evaluator reads the rule's models, updates each with the sample of the tick and writes
-- them back in the tick's transaction, so a cold evaluator carries on where the last stopped.

ALTER TABLE alert_rules ADD COLUMN anomaly jsonb;  -- {algorithm, bounds, seasonality}

CREATE TABLE anomaly_models (
    tenant_id   text        NOT NULL,
    rule_id     text        NOT NULL,
    fingerprint text        NOT NULL,
    state       bytea       NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, fingerprint),
    FOREIGN KEY (tenant_id, rule_id) REFERENCES alert_rules (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE anomaly_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON anomaly_models
    USING (tenant_id = orchestrix_current_tenant())
    WITH CHECK (tenant_id = orchestrix_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON anomaly_models TO orchestrix_app;
