-- Version 7: what identifies the processes of the action an attempt is running, written when
-- the action starts and cleared when it ends (what an ended action left running, it left on
-- purpose), so that after orchestrator is killed the next run can end what the interrupted
-- action left running before it tries the plan again.
-- exec_marker: the ORCHESTRATOR_EXEC_ID every process of the action inherits.
-- exec_group: the pid of the action's direct child, which is also its process group id.
-- exec_leader_start: that child's start time in clock ticks after boot (a reused pid differs).
-- exec_boot: the kernel's boot id; start times mean nothing after a reboot.
ALTER TABLE attempts ADD COLUMN exec_marker TEXT;
ALTER TABLE attempts ADD COLUMN exec_group INTEGER;
ALTER TABLE attempts ADD COLUMN exec_leader_start INTEGER;
ALTER TABLE attempts ADD COLUMN exec_boot TEXT;
