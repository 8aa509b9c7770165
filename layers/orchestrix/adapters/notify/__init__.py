"""Channel adapters for notifications: Slack, Microsoft Teams, generic webhook, SES, SNS."""
