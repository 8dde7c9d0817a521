-- What a check remembers from one scan to the next (src/checks: `Kind::probe_after`), and how
-- many scans in a row it has failed (`for_cycles`). One row per check name; a scan writes it,
-- the phases' re-checks only read it.
--   memory          the kind's JSON: a log's inode and offset, a process's CPU sample; NULL if none
--   failing_streak  consecutive scans that found the check failing (0 after a passing one)
CREATE TABLE check_memory (
    name            TEXT PRIMARY KEY,
    memory          TEXT,
    failing_streak  INTEGER NOT NULL DEFAULT 0,
    updated_at      REAL NOT NULL
);
