-- pattern: EventBridge event patterns and SNS filter policies.
-- The functions are pure: they read no table, so they need no rights check
-- and are open to PUBLIC like any built-in operator.

CREATE FUNCTION outbox.test_event_pattern(event_pattern jsonb, event jsonb)
RETURNS boolean
LANGUAGE c STABLE PARALLEL SAFE	-- stable: the length limit is a setting
AS 'MODULE_PATHNAME', 'outbox_test_event_pattern';

COMMENT ON FUNCTION outbox.test_event_pattern(jsonb, jsonb) IS
'Does the event match the EventBridge event pattern? (like AWS TestEventPattern; the event need not be a full envelope)';

CREATE FUNCTION outbox.test_filter_policy(filter_policy jsonb, message jsonb,
										  scope text DEFAULT 'MessageAttributes')
RETURNS boolean
LANGUAGE c IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'outbox_test_filter_policy';

COMMENT ON FUNCTION outbox.test_filter_policy(jsonb, jsonb, text) IS
'Does the message pass the SNS filter policy? message is the typed message attributes (scope MessageAttributes) or the JSON body (scope MessageBody)';

CREATE FUNCTION outbox.match_event_patterns(event_patterns jsonb[], event jsonb,
											separately boolean DEFAULT false)
RETURNS integer[]
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'outbox_match_event_patterns';

COMMENT ON FUNCTION outbox.match_event_patterns(jsonb[], jsonb, boolean) IS
'The 1-based positions of the event patterns the event matches, ascending; the patterns compile into one matcher (separately => true evaluates them one by one, for comparison)';
