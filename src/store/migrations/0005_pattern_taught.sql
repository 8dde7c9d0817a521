-- Version 5: who vouched for a pattern's plan, which decides how phase 1 judges its replay.
-- NULL: learned from a plan that ran unattended (a remedy, an agent's allowed plan): judged by
-- the policy as it is at replay. 'person': a person approved or typed it, which stands for the
-- approval `[policy] approve` asks for (the policy's refusals still apply). 'outside_policy':
-- root taught it from the CLI with --outside-policy: replayed as written.
ALTER TABLE patterns ADD COLUMN taught TEXT CHECK (taught IN ('person', 'outside_policy'));
