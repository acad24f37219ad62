# pattern: EventBridge event patterns and SNS filter policies (being built)
