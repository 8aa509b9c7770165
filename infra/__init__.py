"""The Orchestrix CDK app (`cdk synth -c stage=<name>`)."""
