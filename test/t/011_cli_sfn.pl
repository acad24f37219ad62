# The command-line client for state machines: deploy (created, updated,
# unchanged; a JSON syntax error and validation problems shown at their
# line and column of the file, nothing deployed), start --wait (Pass and
# Choice, an SQL-function Task, a failing machine), describe, history and
# list (plain and --json), stop of a waiting execution, watch of a running
# one, graph, and bad input.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;

my $cli = "$ENV{TOP}/src/cli/pg_outbox";
my $node = PostgreSQL::Test::Cluster->new('cli_sfn');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_outbox'
pg_outbox.databases = 'postgres'
pg_outbox.launcher_interval = '200ms'
});
$node->start;
$node->safe_psql('postgres', q{CREATE EXTENSION pg_outbox;
	CREATE FUNCTION double_it(j jsonb) RETURNS jsonb LANGUAGE sql
		AS $$ SELECT jsonb_build_object('n', (j ->> 'n')::int * 2) $$;
	CREATE FUNCTION boom(j jsonb) RETURNS jsonb LANGUAGE plpgsql
		AS $$ BEGIN PERFORM outbox.raise_task_error('Boom', 'it blew up'); RETURN j; END $$;});
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM outbox.workers WHERE worker_type = 'scheduler' AND database = 'postgres'"),
	'the scheduler runs the executions');

my @c = ($cli, '-d', $node->connstr('postgres'));
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $json = JSON::PP->new;

# (exit status, stdout, stderr) of the client with these arguments
sub run_cli
{
	my ($in, @args) = @_;
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([@c, @args], '<', \$in, '>', \$stdout, '2>', \$stderr);
	return ($? >> 8, $stdout, $stderr);
}

sub write_file
{
	my ($name, $text) = @_;
	open(my $fh, '>', "$tmp/$name") or die "$tmp/$name: $!";
	print $fh $text;
	close($fh);
	return "$tmp/$name";
}

sub machines
{
	return $node->safe_psql('postgres', 'SELECT string_agg(name, \',\' ORDER BY name) FROM outbox.list_state_machines()');
}

my ($rc, $out, $err);

# help
($rc, $out) = run_cli('', 'sfn', '--help');
like($out, qr/deploy NAME FILE.*\n(?:.*\n)*Exit status: 0 success; 1 /, 'sfn --help lists the commands and exit codes');
($rc, $out) = run_cli('', 'sfn', 'deploy', '--help');
like($out, qr/^Usage: pg_outbox sfn deploy NAME FILE/, 'each command has --help');

# deploy: created, unchanged, updated
my $choice = <<'EOF';
{
  "Comment": "Pass and Choice",
  "StartAt": "Init",
  "States": {
    "Init": {"Type": "Pass", "Result": {"total": 150}, "ResultPath": "$.order", "Next": "Check"},
    "Check": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.order.total", "NumericGreaterThan": 100, "Next": "Big"}],
      "Default": "Small"
    },
    "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": true},
    "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": true}
  }
}
EOF
my $file = write_file('choice.asl.json', $choice);
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'choice', $file);
is($rc, 0, 'deploy of a valid file exits 0');
is($out, "arn:aws:states:local:000000000000:stateMachine:choice\n", 'and prints the ARN');
like($err, qr/state machine "choice" created/, 'saying it was created');
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'choice', $file);
like($err, qr/state machine "choice" unchanged/, 'the same file again leaves it');
$choice =~ s/"total": 150/"total": 50/;
write_file('choice.asl.json', $choice);
($rc, $out, $err) = run_cli('', '--json', 'sfn', 'deploy', 'choice', $file);
is($rc, 0, 'deploy of a changed file exits 0');
is_deeply($json->decode($out), {action => 'updated', stateMachineArn => 'arn:aws:states:local:000000000000:stateMachine:choice'},
	'and updates the machine (--json)');
is($node->safe_psql('postgres', q{SELECT outbox.describe_state_machine('choice') #>> '{definition,States,Init,Result,total}'}),
	'50', 'with the new definition');
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'choice', $file, '--type', 'EXPRESS');
is($rc, 2, 'the type of a machine cannot be changed');
like($err, qr/"choice" is STANDARD; the type of a state machine cannot be changed/, 'saying so');

# deploy: a JSON syntax error, with its line and column; nothing reaches the server
$file = write_file('syntax.asl.json', <<'EOF');
{
  "StartAt": "A",
  "States": {
    "A": {"Type": "Pass", "End": true,}
  }
}
EOF
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'syntax', $file);
is($rc, 2, 'a file that is not JSON exits 2');
like($err, qr/^\Q$file\E:4:39: invalid JSON: /, 'the mistake shown at its line and column');
# json-c (0.16, strict) takes single-quoted keys and NaN; jsonb does not
$file = write_file('quotes.asl.json', qq({\n  'StartAt': "A"\n}\n));
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'syntax', $file);
like($err, qr/^\Q$file\E:2:3: invalid JSON: strings are written in double quotes/,
	'what json-c lets through but jsonb refuses: single quotes');
$file = write_file('nan.asl.json', qq({"StartAt": "A",\n "TimeoutSeconds": NaN}));
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'syntax', $file);
like($err, qr/^\Q$file\E:2:20: invalid JSON: NaN and Infinity are not JSON numbers/, 'NaN');
is(machines(), 'choice', 'nothing was created');

# deploy: an invalid definition, each problem at its line and column
$file = write_file('invalid.asl.json', <<'EOF');
{
  "StartAt": "First",
  "States": {
    "First": {
      "Type": "Pass",
      "Next": "Nowhere"
    },
    "a/b~c": {"Type": "Pass", "End": true, "Colour": "red"}
  }
}
EOF
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'invalid', $file);
is($rc, 2, 'an invalid definition exits 2');
like($err, qr/^\Q$file\E:6:15: MISSING_TRANSITION_TARGET: state "Nowhere" does not exist in this scope \(at \/States\/First\/Next\)$/m,
	'a Next naming a missing state, at the line and column of its value');
like($err, qr/^\Q$file\E:8:54: SCHEMA_VALIDATION_FAILED: field "Colour" is not allowed in a Pass state \(at \/States\/a~1b~0c\/Colour\)$/m,
	'a pointer with ~1 and ~0 escapes');
like($err, qr/^\Q$file\E:8:14: UNREACHABLE_STATE: .* \(at \/States\/a~1b~0c\)$/m, 'a state, at its object');
like($err, qr/^\Q$file\E:1:1: NO_TERMINAL_STATE: .* \(at \/\)$/m, 'the whole definition, at its start');
like($err, qr/4 problems; nothing was deployed/, 'and a count');
($rc, $out) = run_cli('', '--json', 'sfn', 'deploy', 'invalid', $file);
my @problems = map { $json->decode($_) } split /\n/, $out;
is_deeply([ map { "$_->{line}:$_->{column}:$_->{code}" } grep { $_->{location} eq '/States/First/Next' } @problems ],
	['6:15:MISSING_TRANSITION_TARGET'], '--json: one object per problem, with line and column');
is(machines(), 'choice', 'nothing was created');

# more machines: an SQL-function Task, a failing one, a long Wait, a short one to watch
write_file('double.asl.json', '{"StartAt": "Double", "States": {"Double": {"Type": "Task", "Resource": "function:double_it", "Next": "Done"}, "Done": {"Type": "Succeed"}}}');
write_file('boom.asl.json', '{"StartAt": "Explode", "States": {"Explode": {"Type": "Task", "Resource": "function:boom", "End": true}}}');
write_file('sleepy.asl.json', '{"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": true}}}');
write_file('short.asl.json', '{"StartAt": "Start", "States": {"Start": {"Type": "Pass", "Next": "Pause"}, "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Double2"}, "Double2": {"Type": "Task", "Resource": "function:double_it", "End": true}}}');
for my $m (qw(double boom sleepy short))
{
	($rc) = run_cli('', '-q', 'sfn', 'deploy', $m, "$tmp/$m.asl.json");
	is($rc, 0, "deploy $m");
}

# start --wait
($rc, $out, $err) = run_cli('', 'sfn', 'start', 'choice', '{"id": 7}', '--wait', '--name', 'first');
is($rc, 0, 'start --wait of a Pass/Choice machine exits 0');
my ($arn, $output) = split /\n/, $out;
is($arn, 'arn:aws:states:local:000000000000:execution:choice:first', 'it prints the execution ARN');
is_deeply($json->decode($output), {id => 7, order => {total => 50}, size => 'small'},
	'then the output (the Choice took the updated branch)');
($rc, $out) = run_cli('{"n": 21}', 'sfn', 'start', 'double', '-', '--wait', '--name', 'd1');
is($rc, 0, 'start --wait of an SQL-function Task, the input from stdin');
like($out, qr/^arn:\S+:execution:double:d1\n\{"n":42\}\n$/, 'the function\'s result is the output');
($rc, $out, $err) = run_cli('', 'sfn', 'start', 'boom', '{}', '--wait', '--name', 'b1');
is($rc, 1, 'start --wait of a failing machine exits 1');
like($err, qr/execution "b1" FAILED\nerror: Boom\ncause: it blew up\n/, 'and shows its error and cause');
($rc, $out) = run_cli('', '--json', 'sfn', 'start', 'double', '{"n": 1}');
my $started = $json->decode($out);
like($started->{executionArn}, qr/:execution:double:[0-9a-f-]{36}$/, 'start --json, a generated name');

# describe
my $d1 = 'arn:aws:states:local:000000000000:execution:double:d1';
($rc, $out) = run_cli('', 'sfn', 'describe', $d1);
like($out, qr/^executionArn\s+\Q$d1\E\n(?:.*\n)*status\s+SUCCEEDED\n(?:.*\n)*output\s+\{"n":42\}\n/, 'describe: aligned keys and values');
($rc, $out) = run_cli('', '--json', 'sfn', 'describe', 'arn:aws:states:local:000000000000:execution:boom:b1');
my $desc = $json->decode($out);
is(join('/', @$desc{qw(status error cause)}), 'FAILED/Boom/it blew up', 'describe --json');

# history
($rc, $out) = run_cli('', 'sfn', 'history', $d1);
like($out, qr/^id\s+time\s+type\s+state\s+details\n1\s+\S+ \S+\s+ExecutionStarted\s+input \{"n":21\}\n/, 'history: a table');
like($out, qr/\n5\s+\S+ \S+\s+TaskSucceeded\s+Double\s+output \{"n":42\}\n/, 'events are attributed to their state');
($rc, $out) = run_cli('', '--json', 'sfn', 'history', 'arn:aws:states:local:000000000000:execution:boom:b1');
my @events = map { $json->decode($_) } split /\n/, $out;
is(join(',', map { $_->{type} } @events),
	'ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,TaskFailed,ExecutionFailed', 'history --json: one event per line');
my ($failed) = grep { $_->{type} eq 'TaskFailed' } @events;
is(join('/', $failed->{state}, $failed->{details}{error}, $failed->{details}{cause}), 'Explode/Boom/it blew up',
	'the failure with its state, error and cause');
($rc, $out) = run_cli('', '--json', 'sfn', 'history', $d1, '--reverse', '--no-data');
@events = map { $json->decode($_) } split /\n/, $out;
is($events[0]{type}, 'ExecutionSucceeded', '--reverse: newest first');
ok(!(grep { exists $_->{details}{input} || exists $_->{details}{output} } @events), '--no-data: no inputs or outputs');

# list
($rc, $out) = run_cli('', 'sfn', 'list', 'double');
like($out, qr/^name\s+status\s+started\s+stopped\s+redrives\s+execution_arn\n/, 'list: a table');
like($out, qr/^d1\s+SUCCEEDED\s+/m, 'with the execution');
($rc, $out) = run_cli('', '--json', 'sfn', 'list', 'double', '--status', 'succeeded');
my @list = map { $json->decode($_) } split /\n/, $out;
is(scalar(grep { $_->{executionArn} eq $d1 && $_->{status} eq 'SUCCEEDED' } @list), 1, 'list --json --status');
($rc, $out) = run_cli('', 'sfn', 'list');
like($out, qr/^boom\s+STANDARD\s+/m, 'list without a name: the state machines');

# stop a waiting execution
($rc, $arn) = run_cli('', 'sfn', 'start', 'sleepy', '--name', 'nap');
chomp $arn;
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM outbox.get_execution_history('$arn') WHERE type = 'WaitStateEntered'"),
	'the execution waits');
($rc, $out) = run_cli('', 'sfn', 'stop', $arn, '--error', 'Manual', '--cause', 'stopped by the test');
is($rc, 0, 'stop exits 0');
like($out, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/, 'and prints the stop date');
($rc, $out) = run_cli('', '--json', 'sfn', 'describe', $arn);
$desc = $json->decode($out);
is(join('/', @$desc{qw(status error cause)}), 'ABORTED/Manual/stopped by the test', 'the execution was aborted');

# watch (not a terminal): the events as they come, then the status
($rc, $arn) = run_cli('', 'sfn', 'start', 'short', '{"n": 4}', '--name', 'w1');
chomp $arn;
($rc, $out) = run_cli('', 'sfn', 'watch', $arn, '--interval', '100');
is($rc, 0, 'watch of a succeeding execution exits 0');
like($out, qr/^\s+1\s+\S+ \S+\s+ExecutionStarted\s/, 'one line per event');
like($out, qr/\n\s+\d+\s+\S+ \S+\s+WaitStateEntered\s+Pause\s.*\n(?:.*\n)*\s+\d+\s+\S+ \S+\s+TaskSucceeded\s+Double2\s+output \{"n":8\}\n/,
	'in order, with their states');
like($out, qr/\nexecution w1 SUCCEEDED after [\d.]+ s\n$/, 'then the end of the execution');
($rc, $out) = run_cli('', '--json', 'sfn', 'watch', 'arn:aws:states:local:000000000000:execution:boom:b1');
is($rc, 1, 'watch of a failed execution exits 1');
@events = map { $json->decode($_) } split /\n/, $out;
is($events[-1]{type}, 'ExecutionFailed', 'watch --json: the events as JSON');

# graph
($rc, $out, $err) = run_cli('', 'sfn', 'graph', 'choice');
is($rc, 0, 'graph exits 0') or diag($err);
like($out, qr/^digraph/, 'graph: dot by default');
($rc, $out, $err) = run_cli('', 'sfn', 'graph', 'choice', '--format', 'mermaid');
ok($rc == 0 && $out ne '', 'graph --format mermaid') or diag($err);
($rc, $out, $err) = run_cli('', 'sfn', 'graph', 'choice', '--execution', 'arn:aws:states:local:000000000000:execution:choice:first');
like($out, qr/^digraph/, 'graph of an execution') or diag($err);
($rc, $out, $err) = run_cli('', 'sfn', 'graph', 'double', '--execution', 'arn:aws:states:local:000000000000:execution:choice:first');
like($err, qr/belongs to state machine "choice", not "double"/, 'an execution of another machine');
($rc, $out, $err) = run_cli('', 'sfn', 'graph', 'choice', '--format', 'png');
is($rc, 2, 'an unknown graph format');

# bad input
($rc, $out, $err) = run_cli('', 'sfn', 'start', 'nope', '{}');
is($rc, 1, 'an unknown machine exits 1');
like($err, qr/ERROR 42704: StateMachineDoesNotExist: state machine "nope" does not exist/, 'with a clear message');
($rc, $out, $err) = run_cli('', 'sfn', 'describe', 'arn:aws:states:local:000000000000:execution:choice:nope');
like($err, qr/ERROR 42704: ExecutionDoesNotExist/, 'an unknown execution');
my $before = $node->safe_psql('postgres', q{SELECT count(*) FROM outbox.list_executions('choice')});
($rc, $out, $err) = run_cli('', 'sfn', 'start', 'choice', '{"id": }');
is($rc, 2, 'an input that is not JSON exits 2');
like($err, qr/the input is not JSON: .* at line 1, column 8/, 'saying where');
is($node->safe_psql('postgres', q{SELECT count(*) FROM outbox.list_executions('choice')}), $before, 'and starts nothing');
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'x');
is($rc, 2, 'deploy without a file');
($rc, $out, $err) = run_cli('', 'sfn', 'deploy', 'x', "$tmp/missing.json");
like($err, qr/could not open ".*missing\.json"/, 'a missing file');
($rc, $out, $err) = run_cli('', 'sfn', 'frobnicate');
like($err, qr/unknown sfn command "frobnicate"/, 'an unknown sfn command');

$node->stop;
done_testing();
